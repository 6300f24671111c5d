"""The official SDK (everruns-sdk 0.3.1) `client.models` against a live server: list and get, unchanged.

A small fixture of its own until the general SDK harness (tests/sdk) lands. AUTH_MODE is "none" in
tests (tests/conftest.py), so any token is accepted.
"""

import asyncio

import pytest

from apps.llm.services import llm_model_create, llm_provider_create, llm_simulated_model_ensure

everruns_sdk = pytest.importorskip("everruns_sdk")

# serialized_rollback: the live server needs committed rows, and the migration-seeded organization and
# simulator must be back for the tests that run after this one.
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture
def sdk(live_server):
    """sdk(coroutine_function) -> runs it with an `Everruns` client pointed at the live server."""

    def _run(scenario):
        async def main():
            client = everruns_sdk.Everruns(api_key="evr_pat_test", base_url=live_server.url)
            try:
                return await scenario(client)
            finally:
                await client.close()

        return asyncio.run(main())

    return _run


def test_sdk_lists_and_gets_models(sdk, default_org):
    # The migration-seeded simulator, recreated when a reused database lost it to a transactional test.
    simulated_id = f"model_{llm_simulated_model_ensure(organization=default_org).pk.hex}"
    provider = llm_provider_create(organization=default_org, name="OpenAI", provider_type="openai")
    gpt = llm_model_create(provider=provider, model_id="gpt-4o", display_name="GPT-4o", is_favorite=True)
    gpt_id = f"model_{gpt.pk.hex}"

    async def scenario(client):
        return await client.models.list(), await client.models.get(gpt_id)

    listed, got = sdk(scenario)
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


def test_sdk_get_of_a_deleted_model_is_not_found(sdk, default_org):
    provider = llm_provider_create(organization=default_org, name="OpenAI", provider_type="openai")
    model = llm_model_create(provider=provider, model_id="gpt-4o", display_name="GPT-4o")
    model_id = f"model_{model.pk.hex}"
    model.delete()

    async def scenario(client):
        with pytest.raises(everruns_sdk.NotFoundError) as raised:
            await client.models.get(model_id)
        return raised.value, await client.models.list()

    error, listed = sdk(scenario)
    assert error.status_code == 404
    assert model_id not in {m.id for m in listed}
