"""The static model catalogue behind `profile`."""

import pytest

from apps.llm.catalogue import CATALOGUE, model_profile, normalise_model_id, profile_capabilities


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("gpt-4o-2024-11-20", "gpt-4o"),
        ("GPT-4o", "gpt-4o"),
        ("openai/gpt-4o-mini", "gpt-4o-mini"),
        ("claude-3-7-sonnet-20250219", "claude-3-7-sonnet"),
        ("claude-3-5-haiku-latest", "claude-3-5-haiku"),
        ("claude-sonnet-4-0", "claude-sonnet-4"),
        ("o4-mini-2025-04-16", "o4-mini"),
        ("my-model-v2", "my-model-v2"),
    ],
)
def test_normalise_model_id(raw, expected):
    assert normalise_model_id(raw) == expected


def test_profiles_by_provider_family():
    assert model_profile("openai_completions", "gpt-4.1-2025-04-14")["name"] == "GPT-4.1"
    assert model_profile("azure_openai", "o3")["reasoning"] is True
    assert model_profile("anthropic", "claude-opus-4-1-20250805")["family"] == "claude-opus"
    assert model_profile("anthropic", "gpt-4o") is None
    assert model_profile("gemini", "gpt-4o") is None
    assert model_profile("openai", "unknown-model") is None


def test_reasoning_models_expose_efforts_and_no_temperature():
    o3 = model_profile("openai", "o3")
    assert o3["temperature"] is False
    assert o3["reasoning_effort"]["default"] == "medium"
    assert [v["value"] for v in o3["reasoning_effort"]["values"]] == ["low", "medium", "high"]
    assert model_profile("openai", "gpt-4o")["reasoning_effort"] is None


def test_every_entry_has_the_contract_shape():
    keys = {
        "name",
        "family",
        "release_date",
        "last_updated",
        "attachment",
        "reasoning",
        "temperature",
        "knowledge",
        "tool_call",
        "structured_output",
        "open_weights",
        "cost",
        "limits",
        "modalities",
        "reasoning_effort",
    }
    for table in CATALOGUE.values():
        for profile in table.values():
            assert set(profile) == keys
            assert profile["limits"]["context"] >= profile["limits"]["output"] > 0
            assert set(profile["modalities"]["input"]) <= {"text", "image", "audio", "video"}


def test_profile_capabilities():
    assert profile_capabilities(model_profile("openai", "gpt-4o")) == ["chat", "vision", "tools"]
    assert profile_capabilities(model_profile("openai", "o3-mini")) == ["chat", "tools"]
    assert profile_capabilities(None) == ["chat"]
