"""SDK `client.models` against a live server: list and get, unchanged (moved here from tests/llm once the shared
SDK fixture existed)."""

import pytest

from apps.llm.services import llm_model_create, llm_provider_create, llm_simulated_model_ensure
from tests.sdk.conftest import everruns_sdk


def test_sdk_lists_and_gets_models(sdk, sdk_org):
    # The simulator every organization gets, recreated when a reused database lost it to a transactional test.
    simulated_id = f"model_{llm_simulated_model_ensure(organization=sdk_org).pk.hex}"
    provider = llm_provider_create(organization=sdk_org, name="OpenAI", provider_type="openai")
    gpt = llm_model_create(provider=provider, model_id="gpt-4o", display_name="GPT-4o", is_favorite=True)
    gpt_id = f"model_{gpt.pk.hex}"

    listed, got = sdk.models.list(), sdk.models.get(gpt_id)
    by_id = {m.id: m for m in listed}
    assert set(by_id) == {simulated_id, gpt_id}
    assert by_id[simulated_id].provider_name == "Simulated"
    assert by_id[simulated_id].healthy is True
    assert got.id == gpt_id
    assert got.model_id == "gpt-4o"
    assert got.provider_id == f"provider_{provider.pk.hex}"
    assert got.provider_type == "openai"
    assert got.is_favorite is True and got.enabled is True and got.source == "manual"
    assert got.model_vendor == "openai"
    assert got.profile is not None and got.profile.name == "GPT-4o"
    assert got.profile.limits is not None and got.profile.limits.context == 128_000
    assert got.healthy is False  # no API key for the official endpoint


def test_sdk_get_of_a_deleted_model_is_not_found(sdk, sdk_org):
    provider = llm_provider_create(organization=sdk_org, name="OpenAI", provider_type="openai")
    model = llm_model_create(provider=provider, model_id="gpt-4o", display_name="GPT-4o")
    model_id = f"model_{model.pk.hex}"
    model.delete()

    with pytest.raises(everruns_sdk.NotFoundError) as raised:
        sdk.models.get(model_id)
    assert raised.value.status_code == 404
    assert model_id not in {m.id for m in sdk.models.list()}
