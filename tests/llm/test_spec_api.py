"""/v1/providers and /v1/models: the published spec's shapes, optional paging and search, and the
/v1/llm-* aliases seeing the same rows."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.llm.helpers import SECRET, SIMULATED_MODEL, SIMULATED_PROVIDER, b64key

pytestmark = pytest.mark.django_db

PROVIDERS = "/v1/providers"
MODELS = "/v1/models"
SPEC_PROVIDER_FIELDS = {
    "id",
    "name",
    "provider_type",
    "base_url",
    "api_key_set",
    "status",
    "last_synced_at",
    "created_at",
    "updated_at",
    "trace",
    "self_url",
    "view_url",
    "ui_link",
}
# The spec's Model plus the fields the older shape already had (is_default, status, is_stale).
SPEC_MODEL_FIELDS = {
    "id",
    "provider_id",
    "model_id",
    "display_name",
    "capabilities",
    "is_favorite",
    "enabled",
    "source",
    "created_at",
    "updated_at",
    "is_default",
    "status",
    "is_stale",
    "input_price_per_mtok",
    "output_price_per_mtok",
    "cached_input_price_per_mtok",
    "self_url",
    "view_url",
    "ui_link",
}
SPEC_MODEL_WITH_PROVIDER_FIELDS = SPEC_MODEL_FIELDS | {
    "provider_name",
    "provider_type",
    "profile",
    "model_vendor",
    "healthy",
}


@pytest.fixture
def spec_provider(admin_client):
    """spec_provider(**body) -> a provider created through POST /v1/providers."""

    def _create(**body):
        body = {"name": "OpenAI", "provider_type": "openai", **body}
        response = admin_client.post(PROVIDERS, body, format="json")
        assert response.status_code == 201, response.content
        return response.json()

    return _create


@pytest.fixture
def spec_model(admin_client):
    """spec_model(provider_id, **body) -> a model created through POST /v1/providers/{id}/models."""

    def _create(provider_id: str, **body):
        body = {"model_id": "gpt-4o", "display_name": "GPT-4o", **body}
        response = admin_client.post(f"{PROVIDERS}/{provider_id}/models", body, format="json")
        assert response.status_code == 201, response.content
        return response.json()

    return _create


# --------------------------------------------------------------------------- providers
def test_providers_list_has_the_spec_shape_with_links(member_client):
    response = member_client.get(PROVIDERS)
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"data", "total"}  # no paging asked for: every row
    (simulated,) = body["data"]
    assert set(simulated) == SPEC_PROVIDER_FIELDS
    assert simulated["id"] == SIMULATED_PROVIDER
    assert simulated["trace"] is None
    assert simulated["self_url"] == f"http://testserver/v1/providers/{SIMULATED_PROVIDER}"
    assert simulated["view_url"] == simulated["ui_link"] == simulated["self_url"]
    assert member_client.get(simulated["self_url"]).json() == simulated


def test_provider_create_update_delete_through_the_spec_path(admin_client, spec_provider, settings):
    settings.ENCRYPTION_KEYS = f"k1:{b64key(b'k')}"
    created = spec_provider(name="Anthropic", provider_type="anthropic", api_key=SECRET)
    assert set(created) == SPEC_PROVIDER_FIELDS
    assert created["api_key_set"] is True
    assert SECRET not in str(created)

    patched = admin_client.patch(f"{PROVIDERS}/{created['id']}", {"name": "Claude"}, format="json")
    assert patched.status_code == 200
    assert patched.json()["name"] == "Claude"
    assert set(patched.json()) == SPEC_PROVIDER_FIELDS
    # The older path is an alias over the same rows, in its older shape.
    old = admin_client.get(f"/v1/llm-providers/{created['id']}").json()
    assert old["name"] == "Claude"
    assert "self_url" not in old

    assert admin_client.delete(f"{PROVIDERS}/{created['id']}").status_code == 204
    gone = admin_client.get(f"{PROVIDERS}/{created['id']}")
    assert gone.status_code == 404
    assert gone.json() == {"error": "Provider not found", "status": 404}


def test_providers_page_with_offset_and_limit(member_client, spec_provider):
    for name in ("A", "B", "C"):
        spec_provider(name=name)
    first = member_client.get(PROVIDERS, {"limit": 2}).json()
    assert first["total"] == 4 and first["offset"] == 0 and first["limit"] == 2
    assert [p["name"] for p in first["data"]] == ["Simulated", "A"]
    second = member_client.get(PROVIDERS, {"limit": 2, "offset": 2}).json()
    assert [p["name"] for p in second["data"]] == ["B", "C"]
    # offset alone pages too, with the largest page; a huge limit is clamped like the sessions list.
    rest = member_client.get(PROVIDERS, {"offset": 3}).json()
    assert (rest["offset"], rest["limit"], [p["name"] for p in rest["data"]]) == (3, 100, ["C"])
    assert member_client.get(PROVIDERS, {"limit": 1000}).json()["limit"] == 100


@pytest.mark.parametrize("query", [{"limit": 0}, {"limit": "abc"}, {"offset": -1}, {"limit": "1.5"}])
def test_bad_paging_values_are_400(member_client, query):
    for path in (PROVIDERS, MODELS):
        response = member_client.get(path, query)
        assert response.status_code == 400
        assert response.json() == {"error": "Invalid request", "status": 400}


def test_providers_search_by_name_case_insensitive(member_client, spec_provider):
    spec_provider(name="Anthropic prod", provider_type="anthropic")
    spec_provider(name="OpenAI")
    body = member_client.get(PROVIDERS, {"search": "ANTHROP"}).json()
    assert [p["name"] for p in body["data"]] == ["Anthropic prod"]
    assert body["total"] == 1


def test_provider_access_rules(member_client, other_org_client, spec_provider):
    provider = spec_provider()
    denied = member_client.post(PROVIDERS, {"name": "X", "provider_type": "openai"}, format="json")
    assert denied.status_code == 403
    assert denied.json() == {"error": "Forbidden", "status": 403}
    assert member_client.patch(f"{PROVIDERS}/{provider['id']}", {"name": "Y"}, format="json").status_code == 403
    assert member_client.delete(f"{PROVIDERS}/{provider['id']}").status_code == 403
    assert member_client.get(f"{PROVIDERS}/{provider['id']}").status_code == 200
    foreign = other_org_client.get(f"{PROVIDERS}/{provider['id']}")
    assert foreign.status_code == 404
    assert foreign.json() == {"error": "Provider not found", "status": 404}
    assert provider["id"] not in {p["id"] for p in other_org_client.get(PROVIDERS).json()["data"]}


def test_anonymous_is_401_in_full_auth_mode(api_client, settings):
    settings.AUTH_MODE = "full"
    for path in (PROVIDERS, MODELS, f"{MODELS}/{SIMULATED_MODEL}"):
        response = api_client.get(path)
        assert response.status_code == 401
        assert response.json() == {"error": "Unauthorized", "status": 401}


# --------------------------------------------------------------------------- provider models
def test_provider_models_create_with_enabled_and_list_in_the_spec_shape(member_client, spec_provider, spec_model):
    provider = spec_provider()
    created = spec_model(provider["id"], model_id="gpt-4o-mini", display_name="GPT-4o mini", enabled=False)
    assert set(created) == SPEC_MODEL_FIELDS
    assert created["enabled"] is False
    assert created["status"] == "disabled"
    assert created["self_url"] == f"http://testserver/v1/models/{created['id']}"
    spec_model(provider["id"])

    listing = member_client.get(f"{PROVIDERS}/{provider['id']}/models").json()
    assert set(listing) == {"data", "total"}
    assert [m["model_id"] for m in listing["data"]] == ["gpt-4o-mini", "gpt-4o"]
    found = member_client.get(f"{PROVIDERS}/{provider['id']}/models", {"search": "MINI"}).json()
    assert [m["model_id"] for m in found["data"]] == ["gpt-4o-mini"]
    page = member_client.get(f"{PROVIDERS}/{provider['id']}/models", {"limit": 1, "offset": 1}).json()
    assert (page["total"], page["offset"], page["limit"]) == (2, 1, 1)
    assert [m["model_id"] for m in page["data"]] == ["gpt-4o"]


def test_member_cannot_add_a_model(member_client, spec_provider):
    provider = spec_provider()
    response = member_client.post(
        f"{PROVIDERS}/{provider['id']}/models", {"model_id": "x", "display_name": "X"}, format="json"
    )
    assert response.status_code == 403


# --------------------------------------------------------------------------- models
def test_models_list_shows_provider_profile_vendor_and_health(member_client, spec_provider, spec_model):
    keyless = spec_provider(name="OpenAI without key")
    model = spec_model(keyless["id"], model_id="gpt-4o-2024-11-20")
    custom = spec_model(keyless["id"], model_id="my-finetune", display_name="Mine")

    body = member_client.get(MODELS).json()
    assert set(body) == {"data", "total"}
    by_id = {m["id"]: m for m in body["data"]}
    simulated = by_id[SIMULATED_MODEL]
    assert set(simulated) == SPEC_MODEL_WITH_PROVIDER_FIELDS
    assert simulated["provider_name"] == "Simulated"
    assert simulated["model_vendor"] == "llmsim"
    assert simulated["healthy"] is True  # the simulator needs no key
    assert simulated["enabled"] is True

    gpt = by_id[model["id"]]
    assert gpt["provider_type"] == "openai"
    assert gpt["profile"]["name"] == "GPT-4o"
    assert gpt["model_vendor"] == "openai"
    assert gpt["healthy"] is False  # official endpoint, no key stored, no env key
    assert by_id[custom["id"]]["model_vendor"] is None
    assert by_id[custom["id"]]["profile"] is None


def test_a_stored_key_makes_the_models_healthy(member_client, spec_provider, spec_model, settings):
    settings.ENCRYPTION_KEYS = f"k1:{b64key(b'k')}"
    provider = spec_provider(api_key=SECRET)
    model = spec_model(provider["id"])
    assert member_client.get(f"{MODELS}/{model['id']}").json()["healthy"] is True


def test_model_get_patch_delete_through_the_spec_path(admin_client, member_client, spec_provider, spec_model):
    provider = spec_provider()
    model = spec_model(provider["id"])
    got = member_client.get(f"{MODELS}/{model['id']}")
    assert got.status_code == 200
    assert set(got.json()) == SPEC_MODEL_WITH_PROVIDER_FIELDS
    assert got.json()["provider_id"] == provider["id"]

    patched = admin_client.patch(f"{MODELS}/{model['id']}", {"enabled": False, "is_favorite": True}, format="json")
    assert patched.status_code == 200
    assert set(patched.json()) == SPEC_MODEL_FIELDS
    assert (patched.json()["enabled"], patched.json()["status"], patched.json()["is_favorite"]) == (
        False,
        "disabled",
        True,
    )
    assert member_client.get(f"/v1/llm-models/{model['id']}").json()["status"] == "disabled"
    assert member_client.patch(f"{MODELS}/{model['id']}", {"enabled": True}, format="json").status_code == 403

    assert admin_client.delete(f"{MODELS}/{model['id']}").status_code == 204
    gone = member_client.get(f"{MODELS}/{model['id']}")
    assert gone.json() == {"error": "Model not found", "status": 404}


def test_models_filters_search_and_paging(member_client, spec_provider, spec_model):
    provider = spec_provider()
    spec_model(provider["id"], model_id="gpt-4o", is_favorite=True)
    spec_model(provider["id"], model_id="o3", display_name="o3 reasoning")
    favourites = member_client.get(MODELS, {"favorites_only": "true"}).json()
    assert [m["model_id"] for m in favourites["data"]] == ["gpt-4o"]
    found = member_client.get(MODELS, {"search": "REASON"}).json()
    assert [m["model_id"] for m in found["data"]] == ["o3"]
    page = member_client.get(MODELS, {"limit": 2}).json()
    assert (page["total"], page["offset"], page["limit"], len(page["data"])) == (3, 0, 2, 2)
    assert member_client.get(MODELS, {"source": "bogus"}).status_code == 400


def test_other_organization_models_are_404(other_org_client, spec_provider, spec_model):
    model = spec_model(spec_provider()["id"])
    response = other_org_client.get(f"{MODELS}/{model['id']}")
    assert response.json() == {"error": "Model not found", "status": 404}
    assert model["id"] not in {m["id"] for m in other_org_client.get(MODELS).json()["data"]}


def test_model_and_provider_lists_cost_the_same_queries_as_rows_grow(member_client, spec_provider, spec_model):
    def count(path: str) -> int:
        with CaptureQueriesContext(connection) as captured:
            assert member_client.get(path).status_code == 200
        return len(captured.captured_queries)

    provider = spec_provider()
    spec_model(provider["id"], model_id="m0")
    before = {path: count(path) for path in (MODELS, PROVIDERS, f"{PROVIDERS}/{provider['id']}/models")}
    for index in range(1, 6):
        spec_model(spec_provider(name=f"P{index}")["id"], model_id=f"m{index}")
        spec_model(provider["id"], model_id=f"extra{index}")
    after = {path: count(path) for path in before}
    assert after == before


def test_sync_models_through_the_spec_path(
    admin_client, member_client, spec_provider, openai_server, allow_private_base_urls, settings
):
    settings.ENCRYPTION_KEYS = f"k1:{b64key(b'k')}"
    openai_server.api_key = SECRET
    openai_server.models = ["gpt-4o", "text-embedding-3-small"]
    provider = spec_provider(provider_type="openai_completions", base_url=openai_server.base_url, api_key=SECRET)

    assert member_client.post(f"{PROVIDERS}/{provider['id']}/sync-models").status_code == 403
    response = admin_client.post(f"{PROVIDERS}/{provider['id']}/sync-models")
    assert response.json() == {"status": "success", "created": 1, "updated": 0, "stale": 0}
    (model,) = member_client.get(f"{PROVIDERS}/{provider['id']}/models").json()["data"]
    assert (model["model_id"], model["source"], model["enabled"]) == ("gpt-4o", "discovered", True)
    listed = member_client.get(f"{MODELS}/{model['id']}").json()
    assert listed["healthy"] is True and listed["model_vendor"] == "openai"


def test_custom_servers_are_healthy_without_a_key_but_stored_only_types_never(member_client, spec_provider, spec_model):
    local = spec_model(spec_provider(provider_type="openai_completions", base_url="http://ollama:11434/v1")["id"])
    gemini = spec_model(spec_provider(provider_type="gemini", base_url="https://gemini.example.com")["id"])
    assert member_client.get(f"{MODELS}/{local['id']}").json()["healthy"] is True
    assert member_client.get(f"{MODELS}/{gemini['id']}").json()["healthy"] is False
