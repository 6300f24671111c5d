"""A small static catalogue of well-known models: the read-only `profile` of an LLM model (contract 3.7).

Looked up by provider family (the client's `catalogue_family`: OpenAI-style types share one table) and a
normalised model id: lower
case, without a vendor prefix (`openai/gpt-4o`), a date suffix (`-2024-11-20`, `-20250219`) or a
`-latest` suffix. Unknown models have no profile (null). Prices are USD per million tokens, list
prices when the entry was written; they are informational, nothing bills from them.
"""

import re
from typing import Any

from .clients.base import client_class_or_none

_DATE_SUFFIX = re.compile(r"-(\d{4}-\d{2}-\d{2}|\d{8})$")
_ALIASES = {
    "claude-sonnet-4-0": "claude-sonnet-4",
    "claude-opus-4-0": "claude-opus-4",
    "chatgpt-4o": "gpt-4o",
}

TEXT_IMAGE_IN = {"input": ["text", "image"], "output": ["text"]}
TEXT_ONLY = {"input": ["text"], "output": ["text"]}
OPENAI_EFFORT = {
    "values": [
        {"name": "Low", "value": "low"},
        {"name": "Medium", "value": "medium"},
        {"name": "High", "value": "high"},
    ],
    "default": "medium",
}
GPT5_EFFORT = {
    "values": [{"name": "Minimal", "value": "minimal"}, *OPENAI_EFFORT["values"]],
    "default": "medium",
}


def _profile(
    name: str,
    family: str,
    *,
    release_date: str | None,
    knowledge: str | None,
    cost: tuple[float, float, float | None] | None,
    limits: tuple[int, int],
    modalities: dict = TEXT_IMAGE_IN,
    reasoning: bool = False,
    temperature: bool = True,
    tool_call: bool = True,
    structured_output: bool = True,
    reasoning_effort: dict | None = None,
    last_updated: str | None = None,
) -> dict[str, Any]:
    return {
        "name": name,
        "family": family,
        "release_date": release_date,
        "last_updated": last_updated or release_date,
        "attachment": "image" in modalities["input"],
        "reasoning": reasoning,
        "temperature": temperature,
        "knowledge": knowledge,
        "tool_call": tool_call,
        "structured_output": structured_output,
        "open_weights": False,
        "cost": None if cost is None else {"input": cost[0], "output": cost[1], "cache_read": cost[2]},
        "limits": {"context": limits[0], "output": limits[1]},
        "modalities": modalities,
        "reasoning_effort": reasoning_effort,
    }


def _o_series(name: str, release: str, knowledge: str, cost: tuple, modalities: dict = TEXT_IMAGE_IN) -> dict:
    return _profile(
        name,
        "o",
        release_date=release,
        knowledge=knowledge,
        cost=cost,
        limits=(200_000, 100_000),
        modalities=modalities,
        reasoning=True,
        temperature=False,
        reasoning_effort=OPENAI_EFFORT,
    )


def _gpt5(name: str, cost: tuple) -> dict:
    return _profile(
        name,
        "gpt-5",
        release_date="2025-08-07",
        knowledge="2024-09",
        cost=cost,
        limits=(400_000, 128_000),
        reasoning=True,
        temperature=False,
        reasoning_effort=GPT5_EFFORT,
    )


def _claude(
    name: str, family: str, release: str, knowledge: str | None, cost: tuple, output: int, reasoning: bool = False
) -> dict:
    return _profile(
        name,
        family,
        release_date=release,
        knowledge=knowledge,
        cost=cost,
        limits=(200_000, output),
        reasoning=reasoning,
        structured_output=False,
    )


CATALOGUE: dict[str, dict[str, dict[str, Any]]] = {
    "openai": {
        "gpt-4o": _profile(
            "GPT-4o",
            "gpt-4o",
            release_date="2024-05-13",
            last_updated="2024-11-20",
            knowledge="2023-10",
            cost=(2.5, 10.0, 1.25),
            limits=(128_000, 16_384),
        ),
        "gpt-4o-mini": _profile(
            "GPT-4o mini",
            "gpt-4o",
            release_date="2024-07-18",
            knowledge="2023-10",
            cost=(0.15, 0.6, 0.075),
            limits=(128_000, 16_384),
        ),
        "gpt-4.1": _profile(
            "GPT-4.1",
            "gpt-4.1",
            release_date="2025-04-14",
            knowledge="2024-06",
            cost=(2.0, 8.0, 0.5),
            limits=(1_047_576, 32_768),
        ),
        "gpt-4.1-mini": _profile(
            "GPT-4.1 mini",
            "gpt-4.1",
            release_date="2025-04-14",
            knowledge="2024-06",
            cost=(0.4, 1.6, 0.1),
            limits=(1_047_576, 32_768),
        ),
        "gpt-4.1-nano": _profile(
            "GPT-4.1 nano",
            "gpt-4.1",
            release_date="2025-04-14",
            knowledge="2024-06",
            cost=(0.1, 0.4, 0.025),
            limits=(1_047_576, 32_768),
        ),
        "o1": _o_series("o1", "2024-12-17", "2023-10", (15.0, 60.0, 7.5)),
        "o3": _o_series("o3", "2025-04-16", "2024-06", (2.0, 8.0, 0.5)),
        "o3-mini": _o_series("o3-mini", "2025-01-31", "2023-10", (1.1, 4.4, 0.55), modalities=TEXT_ONLY),
        "o4-mini": _o_series("o4-mini", "2025-04-16", "2024-06", (1.1, 4.4, 0.275)),
        "gpt-5": _gpt5("GPT-5", (1.25, 10.0, 0.125)),
        "gpt-5-mini": _gpt5("GPT-5 mini", (0.25, 2.0, 0.025)),
        "gpt-5-nano": _gpt5("GPT-5 nano", (0.05, 0.4, 0.005)),
    },
    "anthropic": {
        "claude-3-haiku": _claude("Claude Haiku 3", "claude-haiku", "2024-03-07", "2023-08", (0.25, 1.25, 0.03), 4_096),
        "claude-3-opus": _claude("Claude Opus 3", "claude-opus", "2024-02-29", "2023-08", (15.0, 75.0, 1.5), 4_096),
        "claude-3-5-haiku": _claude(
            "Claude Haiku 3.5", "claude-haiku", "2024-10-22", "2024-07", (0.8, 4.0, 0.08), 8_192
        ),
        "claude-3-5-sonnet": _claude(
            "Claude Sonnet 3.5", "claude-sonnet", "2024-06-20", "2024-04", (3.0, 15.0, 0.3), 8_192
        ),
        "claude-3-7-sonnet": _claude(
            "Claude Sonnet 3.7", "claude-sonnet", "2025-02-19", "2024-10", (3.0, 15.0, 0.3), 64_000, reasoning=True
        ),
        "claude-sonnet-4": _claude(
            "Claude Sonnet 4", "claude-sonnet", "2025-05-22", "2025-03", (3.0, 15.0, 0.3), 64_000, reasoning=True
        ),
        "claude-opus-4": _claude(
            "Claude Opus 4", "claude-opus", "2025-05-22", "2025-03", (15.0, 75.0, 1.5), 32_000, reasoning=True
        ),
        "claude-opus-4-1": _claude(
            "Claude Opus 4.1", "claude-opus", "2025-08-05", "2025-03", (15.0, 75.0, 1.5), 32_000, reasoning=True
        ),
        "claude-sonnet-4-5": _claude(
            "Claude Sonnet 4.5", "claude-sonnet", "2025-09-29", "2025-07", (3.0, 15.0, 0.3), 64_000, reasoning=True
        ),
        "claude-haiku-4-5": _claude(
            "Claude Haiku 4.5", "claude-haiku", "2025-10-15", "2025-02", (1.0, 5.0, 0.1), 64_000, reasoning=True
        ),
    },
    "llmsim": {
        "llmsim-default": _profile(
            "Simulated",
            "llmsim",
            release_date=None,
            knowledge=None,
            cost=(0.0, 0.0, 0.0),
            limits=(128_000, 16_384),
            modalities=TEXT_ONLY,
            structured_output=False,
        ),
    },
}


def normalise_model_id(model_id: str) -> str:
    """`openai/GPT-4o-2024-11-20` -> `gpt-4o`; `claude-3-7-sonnet-20250219` -> `claude-3-7-sonnet`."""
    value = model_id.strip().lower().rsplit("/", 1)[-1]
    value = _DATE_SUFFIX.sub("", value)
    value = value.removesuffix("-latest")
    return _ALIASES.get(value, value)


def model_profile(provider_type: str, model_id: str) -> dict[str, Any] | None:
    """The catalogue profile for a model, or None when the model is not in the catalogue."""
    cls = client_class_or_none(provider_type)
    table = CATALOGUE.get(cls.catalogue_family or "", {}) if cls is not None else {}
    profile = table.get(normalise_model_id(model_id))
    return dict(profile) if profile is not None else None


# catalogue family -> the spec's `model_vendor` (the brand that authored the model, for UI icons).
VENDORS = {"openai": "openai", "anthropic": "anthropic", "llmsim": "llmsim"}


def model_vendor(provider_type: str, model_id: str) -> str | None:
    """The vendor of a model in the catalogue (via its provider's family); None when it is not in the catalogue."""
    cls = client_class_or_none(provider_type)
    family = cls.catalogue_family if cls is not None else None
    if family is None or normalise_model_id(model_id) not in CATALOGUE.get(family, {}):
        return None
    return VENDORS.get(family)


def profile_capabilities(profile: dict[str, Any] | None) -> list[str]:
    """The `capabilities` a discovered model gets: chat, plus vision/tools when its profile says so."""
    capabilities = ["chat"]
    if profile:
        if profile["attachment"]:
            capabilities.append("vision")
        if profile["tool_call"]:
            capabilities.append("tools")
    return capabilities
