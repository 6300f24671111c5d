"""/v1/llm-providers: CRUD, write-only API key, validation, access matrix."""

import json

import pytest

from apps.llm.models import LlmModel, LlmProvider
from apps.llm.services import provider_api_key
from tests.fakes.base import Error
from tests.llm.helpers import PROVIDERS, SECRET, SIMULATED_PROVIDER

pytestmark = pytest.mark.django_db

PROVIDER_FIELDS = {
    "id",
    "name",
    "provider_type",
    "base_url",
    "api_key_set",
    "status",
    "last_synced_at",
    "created_at",
    "updated_at",
}


def _row(public_id: str) -> LlmProvider:
    return LlmProvider.objects.get(pk=public_id.removeprefix("provider_"))


def test_fresh_install_lists_the_simulated_provider(member_client):
    response = member_client.get(PROVIDERS)
    assert response.status_code == 200
    body = response.json()
    assert body["total"] == 1
    (simulated,) = body["data"]
    assert simulated["id"] == SIMULATED_PROVIDER
    assert simulated["name"] == "Simulated"
    assert simulated["provider_type"] == "llmsim"
    assert simulated["api_key_set"] is False


def test_create_returns_provider_without_the_key_and_stores_ciphertext(admin_client):
    response = admin_client.post(
        PROVIDERS,
        {"name": "OpenAI", "provider_type": "openai", "api_key": SECRET, "base_url": "https://api.openai.com/v1"},
        format="json",
    )
    assert response.status_code == 201
    body = response.json()
    assert set(body) == PROVIDER_FIELDS
    assert body["id"].startswith("provider_")
    assert body["api_key_set"] is True
    assert body["status"] == "active"
    assert body["base_url"] == "https://api.openai.com/v1"
    assert body["last_synced_at"] is None
    assert body["created_at"].endswith("Z")
    assert SECRET not in response.content.decode()

    row = _row(body["id"])
    assert row.api_key_encrypted and SECRET not in row.api_key_encrypted
    assert row.api_key_key_id == "test"
    assert provider_api_key(row) == SECRET
    assert SECRET not in repr(row) and SECRET not in str(row)


def test_key_never_appears_in_any_read_or_write_response(admin_client, create_provider):
    provider = create_provider(api_key=SECRET)
    url = f"{PROVIDERS}/{provider['id']}"
    responses = [
        admin_client.get(PROVIDERS),
        admin_client.get(url),
        admin_client.patch(url, {"name": "Renamed"}, format="json"),
        admin_client.patch(url, {"api_key": SECRET + "-2"}, format="json"),
        admin_client.get(f"{url}/models"),
        admin_client.get("/v1/llm-models"),
    ]
    for response in responses:
        assert response.status_code == 200
        text = response.content.decode()
        assert SECRET not in text
        assert _row(provider["id"]).api_key_encrypted not in text
        assert 'api_key"' not in text.replace("api_key_set", "")


def test_create_without_key_uses_env_fallback_for_api_key_set(admin_client, settings):
    settings.DEFAULT_ANTHROPIC_API_KEY = "sk-ant-env"
    anthropic = admin_client.post(PROVIDERS, {"name": "A", "provider_type": "anthropic"}, format="json").json()
    compatible = admin_client.post(PROVIDERS, {"name": "L", "provider_type": "openai_completions"}, format="json")
    assert anthropic["api_key_set"] is True
    assert compatible.json()["api_key_set"] is False
    assert provider_api_key(_row(anthropic["id"])) == "sk-ant-env"
    assert _row(anthropic["id"]).api_key_encrypted is None
    assert "sk-ant-env" not in json.dumps(anthropic)


def test_env_fallback_applies_to_official_endpoints_only(create_provider, settings):
    settings.DEFAULT_OPENAI_API_KEY = "sk-env"
    official = create_provider(base_url="https://api.openai.com/v1")
    custom = create_provider(provider_type="openai_completions", base_url="https://llm.example.com/v1")
    assert official["api_key_set"] is True
    assert provider_api_key(_row(official["id"])) == "sk-env"
    assert custom["api_key_set"] is False
    assert provider_api_key(_row(custom["id"])) is None


@pytest.mark.parametrize("base_url", ["http://api.openai.com/v1", "http://api.openai.com:443/v1"])
def test_env_fallback_is_never_sent_over_plain_http(create_provider, settings, base_url):
    settings.DEFAULT_OPENAI_API_KEY = "sk-env"
    provider = create_provider(base_url=base_url)
    assert provider["api_key_set"] is False
    assert provider_api_key(_row(provider["id"])) is None


def test_stored_key_wins_over_env_fallback(create_provider, settings):
    settings.DEFAULT_OPENAI_API_KEY = "sk-env"
    provider = create_provider(api_key=SECRET)
    assert provider_api_key(_row(provider["id"])) == SECRET


@pytest.mark.parametrize(
    "provider_type", ["openai", "openai_completions", "anthropic", "llmsim", "gemini", "azure_openai"]
)
def test_every_known_provider_type_can_be_created(create_provider, provider_type):
    assert create_provider(provider_type=provider_type)["provider_type"] == provider_type


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"provider_type": "openai"},
        {"name": "", "provider_type": "openai"},
        {"name": "X"},
        {"name": "X", "provider_type": "cohere"},
        {"name": "X", "provider_type": "openai", "base_url": "not a url"},
        {"name": "X", "provider_type": "openai", "base_url": "ftp://example.com"},
        {"name": "X", "provider_type": "openai", "base_url": "http://"},
        {"name": "X", "provider_type": "openai", "base_url": "http://host:99999/v1"},
        {"name": "X", "provider_type": "openai", "status": "paused"},
        {"name": "X" * 256, "provider_type": "openai"},
        {"name": "X", "provider_type": "openai", "api_key": {"nested": True}},
    ],
)
def test_invalid_create_body_is_400(admin_client, body):
    response = admin_client.post(PROVIDERS, body, format="json")
    assert response.status_code == 400
    assert response.json() == {"error": "Invalid request", "status": 400}
    assert LlmProvider.objects.count() == 1  # only the seeded simulator


def test_malformed_json_is_400(admin_client):
    response = admin_client.post(PROVIDERS, "{not json", content_type="application/json")
    assert response.status_code == 400
    assert response.json()["error"] == "Invalid request"


def test_single_label_hosts_and_ports_are_valid_base_urls(create_provider):
    provider = create_provider(provider_type="openai_completions", base_url="http://ollama:11434/v1")
    assert provider["base_url"] == "http://ollama:11434/v1"


def test_blank_base_url_means_none(create_provider):
    assert create_provider(base_url="")["base_url"] is None


def test_create_with_key_but_no_encryption_configured_is_400(admin_client, settings):
    settings.ENCRYPTION_KEYS = ""
    response = admin_client.post(PROVIDERS, {"name": "X", "provider_type": "openai", "api_key": SECRET}, format="json")
    assert response.status_code == 400
    assert response.json() == {"error": "Encryption not configured. Cannot store API key.", "status": 400}
    assert not LlmProvider.objects.filter(name="X").exists()
    # Without a key there is nothing to encrypt: creating still works.
    assert admin_client.post(PROVIDERS, {"name": "X", "provider_type": "openai"}, format="json").status_code == 201


def test_get_one(member_client, create_provider):
    provider = create_provider(api_key=SECRET)
    response = member_client.get(f"{PROVIDERS}/{provider['id']}")
    assert response.status_code == 200
    assert response.json() == provider


@pytest.mark.parametrize(
    "bad_id",
    ["nope", "provider_123", "model_00000000000000000000000000000001", "provider_0195f0a1b2c37d4e8f90a1b2c3d4e5f6"],
)
def test_unknown_or_malformed_id_is_404(admin_client, bad_id):
    for method in ("get", "patch", "delete"):
        response = getattr(admin_client, method)(f"{PROVIDERS}/{bad_id}", {}, format="json")
        assert response.status_code == 404
        assert response.json() == {"error": "Provider not found", "status": 404}
    response = admin_client.post(f"{PROVIDERS}/{bad_id}/sync-models")
    assert response.json() == {"error": "Provider not found", "status": 404}


def test_hyphenated_uuid_id_is_accepted(member_client):
    response = member_client.get(f"{PROVIDERS}/provider_00000000-0000-0000-0000-000000000001")
    assert response.status_code == 200
    assert response.json()["id"] == SIMULATED_PROVIDER


def test_patch_updates_fields(admin_client, create_provider):
    provider = create_provider()
    response = admin_client.patch(
        f"{PROVIDERS}/{provider['id']}",
        {
            "name": "Local",
            "provider_type": "openai_completions",
            "base_url": "http://127.0.0.1:8080/v1",
            "status": "disabled",
        },
        format="json",
    )
    assert response.status_code == 200
    body = response.json()
    assert (body["name"], body["provider_type"], body["base_url"], body["status"]) == (
        "Local",
        "openai_completions",
        "http://127.0.0.1:8080/v1",
        "disabled",
    )
    assert body["updated_at"] >= provider["updated_at"]
    assert admin_client.get(f"{PROVIDERS}/{provider['id']}").json()["status"] == "disabled"


def test_patch_sets_replaces_and_clears_the_key(admin_client, create_provider):
    provider = create_provider()
    url = f"{PROVIDERS}/{provider['id']}"
    assert provider["api_key_set"] is False

    assert admin_client.patch(url, {"api_key": SECRET}, format="json").json()["api_key_set"] is True
    first_ciphertext = _row(provider["id"]).api_key_encrypted
    assert provider_api_key(_row(provider["id"])) == SECRET

    admin_client.patch(url, {"api_key": "sk-second"}, format="json")
    assert provider_api_key(_row(provider["id"])) == "sk-second"
    assert _row(provider["id"]).api_key_encrypted != first_ciphertext

    # Other fields leave the key alone.
    admin_client.patch(url, {"name": "Still keyed"}, format="json")
    assert provider_api_key(_row(provider["id"])) == "sk-second"

    response = admin_client.patch(url, {"api_key": None}, format="json")
    assert response.json()["api_key_set"] is False
    assert _row(provider["id"]).api_key_encrypted is None


@pytest.mark.parametrize(
    "body",
    [
        {"name": ""},
        {"provider_type": "bogus"},
        {"base_url": "javascript:alert(1)"},
        {"status": "archived"},
        {"name": None},
    ],
)
def test_invalid_patch_is_400_and_changes_nothing(admin_client, create_provider, body):
    provider = create_provider()
    response = admin_client.patch(f"{PROVIDERS}/{provider['id']}", body, format="json")
    assert response.status_code == 400
    assert response.json() == {"error": "Invalid request", "status": 400}
    assert admin_client.get(f"{PROVIDERS}/{provider['id']}").json() == provider


def test_patch_key_without_encryption_configured_is_400(admin_client, create_provider, settings):
    provider = create_provider()
    settings.ENCRYPTION_KEYS = ""
    response = admin_client.patch(f"{PROVIDERS}/{provider['id']}", {"api_key": SECRET}, format="json")
    assert response.status_code == 400
    assert response.json()["error"] == "Encryption not configured. Cannot store API key."


def test_put_is_not_allowed(admin_client, create_provider):
    provider = create_provider()
    response = admin_client.put(
        f"{PROVIDERS}/{provider['id']}", {"name": "X", "provider_type": "openai"}, format="json"
    )
    assert response.status_code == 405
    assert response.json()["status"] == 405


def test_delete_cascades_models(admin_client, create_provider, create_model):
    provider = create_provider()
    model = create_model(provider["id"])
    response = admin_client.delete(f"{PROVIDERS}/{provider['id']}")
    assert response.status_code == 204
    assert response.content == b""
    assert admin_client.get(f"{PROVIDERS}/{provider['id']}").status_code == 404
    assert admin_client.get(f"/v1/llm-models/{model['id']}").status_code == 404
    assert not LlmModel.objects.filter(provider_id=provider["id"].removeprefix("provider_")).exists()


def test_member_can_read_but_not_mutate(member_client, create_provider):
    provider = create_provider()
    url = f"{PROVIDERS}/{provider['id']}"
    assert member_client.get(PROVIDERS).status_code == 200
    assert member_client.get(url).status_code == 200
    forbidden = [
        member_client.post(PROVIDERS, {"name": "X", "provider_type": "openai"}, format="json"),
        member_client.patch(url, {"name": "X"}, format="json"),
        member_client.delete(url),
        member_client.post(f"{url}/sync-models"),
    ]
    for response in forbidden:
        assert response.status_code == 403
        assert response.json() == {"error": "Forbidden", "status": 403}
    assert member_client.get(url).json()["name"] == "OpenAI"


def test_other_organization_sees_none_of_ours(other_org_client, create_provider, create_model):
    provider = create_provider(api_key=SECRET)
    url = f"{PROVIDERS}/{provider['id']}"
    listing = other_org_client.get(PROVIDERS).json()
    assert provider["id"] not in {p["id"] for p in listing["data"]}
    assert SIMULATED_PROVIDER not in {p["id"] for p in listing["data"]}
    for response in (
        other_org_client.get(url),
        other_org_client.patch(url, {"name": "Mine now"}, format="json"),
        other_org_client.delete(url),
        other_org_client.post(f"{url}/sync-models"),
        other_org_client.get(f"{url}/models"),
        other_org_client.post(f"{url}/models", {"model_id": "x", "display_name": "x"}, format="json"),
    ):
        assert response.status_code == 404
        assert response.json() == {"error": "Provider not found", "status": 404}
    assert _row(provider["id"]).name == "OpenAI"


def test_created_in_other_org_is_listed_only_there(other_org_client, admin_client):
    created = other_org_client.post(PROVIDERS, {"name": "Theirs", "provider_type": "anthropic"}, format="json")
    assert created.status_code == 201
    assert [p["name"] for p in other_org_client.get(PROVIDERS).json()["data"]] == ["Theirs"]
    assert "Theirs" not in {p["name"] for p in admin_client.get(PROVIDERS).json()["data"]}


def test_anonymous_is_401_when_auth_is_required(api_client, settings):
    settings.AUTH_MODE = "full"
    response = api_client.get(PROVIDERS)
    assert response.status_code == 401
    assert response.json() == {"error": "Unauthorized", "status": 401}


def test_key_is_never_logged(admin_client, create_provider, caplog, openai_server, allow_private_base_urls):
    caplog.set_level("DEBUG")
    openai_server.models_error = Error(401, f"Incorrect API key provided: {SECRET}")
    provider = create_provider(api_key=SECRET, base_url=openai_server.base_url)
    admin_client.post(PROVIDERS, {"name": "X", "provider_type": "bogus", "api_key": SECRET}, format="json")
    admin_client.post(PROVIDERS, {"name": "X", "provider_type": "openai", "api_key": [SECRET]}, format="json")
    admin_client.patch(f"{PROVIDERS}/{provider['id']}", {"api_key": SECRET, "base_url": "nope"}, format="json")
    # The provider's error text echoes the key; only the status is logged.
    assert admin_client.post(f"{PROVIDERS}/{provider['id']}/sync-models").status_code == 422
    assert caplog.records, "expected the failures above to be logged"
    assert SECRET not in caplog.text
