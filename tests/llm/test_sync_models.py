"""POST /v1/llm-providers/{id}/sync-models through the official SDKs against the local fake servers."""

import socket

import pytest

from tests.fakes.base import Error
from tests.llm.helpers import MODELS, PROVIDERS, SECRET

# The fake servers listen on 127.0.0.1, which the provider address policy refuses unless allowed.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("allow_private_base_urls")]


def _sync(client, provider_id: str):
    return client.post(f"{PROVIDERS}/{provider_id}/sync-models")


def _models(client, provider_id: str, query: str = "") -> dict[str, dict]:
    rows = client.get(f"{PROVIDERS}/{provider_id}/models?{query}").json()["data"]
    return {row["model_id"]: row for row in rows}


def test_two_syncs_create_update_and_mark_stale(admin_client, create_provider, create_model, openai_server):
    openai_server.api_key = SECRET
    provider = create_provider(provider_type="openai_completions", base_url=openai_server.base_url, api_key=SECRET)
    create_model(provider["id"], model_id="gpt-4o-mini", display_name="Mini (mine)")
    create_model(provider["id"], model_id="my-manual", display_name="Manual")
    openai_server.models = ["gpt-4o", "gpt-4o-mini", "local-llama", "text-embedding-3-small"]

    response = _sync(admin_client, provider["id"])
    assert response.status_code == 200
    assert response.json() == {"status": "success", "created": 2, "updated": 1, "stale": 0}
    models = _models(admin_client, provider["id"])
    assert set(models) == {"gpt-4o", "gpt-4o-mini", "local-llama", "my-manual"}  # embeddings are skipped
    assert models["gpt-4o"]["source"] == "discovered"
    assert models["gpt-4o"]["display_name"] == "gpt-4o"
    assert models["gpt-4o"]["capabilities"] == ["chat", "vision", "tools"]  # from the catalogue profile
    assert models["local-llama"]["capabilities"] == ["chat"]
    assert models["gpt-4o-mini"]["source"] == "manual"
    assert models["gpt-4o-mini"]["display_name"] == "Mini (mine)"
    assert admin_client.get(f"{PROVIDERS}/{provider['id']}").json()["last_synced_at"] is not None
    # The SDK called GET /v1/models with the decrypted key.
    listing = [r for r in openai_server.requests if r.path == "/models"]
    assert listing and listing[-1].headers["authorization"] == f"Bearer {SECRET}"

    openai_server.models = ["gpt-4o-mini", "local-llama", "o4-mini"]
    assert _sync(admin_client, provider["id"]).json() == {"status": "success", "created": 1, "updated": 2, "stale": 1}
    models = _models(admin_client, provider["id"])
    assert models["gpt-4o"]["is_stale"] is True
    assert models["my-manual"]["is_stale"] is False  # manual models are never stale
    assert "gpt-4o" not in _models(admin_client, provider["id"], "include_stale=false")
    assert "gpt-4o" not in {m["model_id"] for m in admin_client.get(f"{MODELS}?include_stale=false").json()["data"]}

    # A model that comes back is fresh again.
    openai_server.models = ["gpt-4o", "gpt-4o-mini", "local-llama", "o4-mini"]
    assert _sync(admin_client, provider["id"]).json() == {"status": "success", "created": 0, "updated": 4, "stale": 0}
    assert _models(admin_client, provider["id"])["gpt-4o"]["is_stale"] is False


def test_openai_responses_type_syncs_too(admin_client, create_provider, openai_server):
    provider = create_provider(provider_type="openai", base_url=openai_server.base_url, api_key=SECRET)
    assert _sync(admin_client, provider["id"]).json() == {"status": "success", "created": 3, "updated": 0, "stale": 0}


def test_anthropic_sync_uses_provider_display_names(admin_client, create_provider, anthropic_server):
    anthropic_server.api_key = SECRET
    anthropic_server.models = ["claude-sonnet-4-5-20250929", "claude-haiku-4-5"]
    provider = create_provider(provider_type="anthropic", base_url=anthropic_server.base_url, api_key=SECRET)
    assert _sync(admin_client, provider["id"]).json() == {"status": "success", "created": 2, "updated": 0, "stale": 0}
    models = _models(admin_client, provider["id"])
    assert models["claude-haiku-4-5"]["display_name"] == "Claude Haiku 4 5"
    detail = admin_client.get(f"{MODELS}/{models['claude-sonnet-4-5-20250929']['id']}").json()
    assert detail["profile"]["name"] == "Claude Sonnet 4.5"


def test_env_fallback_key_is_never_sent_to_a_custom_server(admin_client, create_provider, openai_server, settings):
    settings.DEFAULT_OPENAI_API_KEY = "sk-operator-env-key"
    provider = create_provider(base_url=openai_server.base_url)
    assert provider["api_key_set"] is False
    assert _sync(admin_client, provider["id"]).json()["status"] == "success"
    assert all("sk-operator-env-key" not in str(r.headers) for r in openai_server.requests)


def test_keyless_custom_server_works(admin_client, create_provider, openai_server):
    provider = create_provider(provider_type="openai_completions", base_url=openai_server.base_url)
    assert _sync(admin_client, provider["id"]).json()["status"] == "success"


@pytest.mark.parametrize("provider_type", ["llmsim", "gemini", "azure_openai"])
def test_not_supported_types(admin_client, create_provider, provider_type):
    provider = create_provider(provider_type=provider_type)
    response = _sync(admin_client, provider["id"])
    assert response.status_code == 200
    assert response.json() == {"status": "not_supported"}


def test_server_without_model_listing_is_not_supported(admin_client, create_provider, openai_server):
    openai_server.models_error = Error(404, "no such route")
    provider = create_provider(base_url=openai_server.base_url, api_key=SECRET)
    assert _sync(admin_client, provider["id"]).json() == {"status": "not_supported"}


def test_rejected_key_is_422_without_provider_text(admin_client, create_provider, openai_server):
    openai_server.api_key = "the-right-key"
    provider = create_provider(base_url=openai_server.base_url, api_key=SECRET)
    response = _sync(admin_client, provider["id"])
    assert response.status_code == 422
    assert response.json() == {"error": "Provider rejected the API key", "status": 422}


def test_provider_error_is_502_without_provider_text(admin_client, create_provider, openai_server):
    openai_server.models_error = Error(500, f"boom: internal detail {SECRET}")
    provider = create_provider(base_url=openai_server.base_url, api_key=SECRET)
    response = _sync(admin_client, provider["id"])
    assert response.status_code == 502
    assert response.json() == {"error": "Provider request failed", "status": 502}
    assert _models(admin_client, provider["id"]) == {}


def test_unreachable_provider_is_502(admin_client, create_provider):
    with socket.socket() as sock:  # a port that is certainly closed: bound, never listening
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        provider = create_provider(base_url=f"http://127.0.0.1:{port}/v1", api_key=SECRET)
        response = _sync(admin_client, provider["id"])
    assert response.status_code == 502
    assert response.json() == {"error": "Could not reach the provider", "status": 502}


def test_slow_provider_times_out_quickly(admin_client, create_provider, settings):
    settings.LLM_SYNC_TIMEOUT_SECS = 0.3
    with socket.socket() as sock:  # accepts the connection (backlog) but never answers
        sock.bind(("127.0.0.1", 0))
        sock.listen(1)
        provider = create_provider(base_url=f"http://127.0.0.1:{sock.getsockname()[1]}/v1", api_key=SECRET)
        response = _sync(admin_client, provider["id"])
    assert response.status_code == 502
    assert response.json() == {"error": "Provider did not respond in time", "status": 502}


def test_official_endpoint_without_any_key_is_422(admin_client, create_provider, settings):
    settings.DEFAULT_OPENAI_API_KEY = ""
    provider = create_provider()
    response = _sync(admin_client, provider["id"])
    assert response.status_code == 422
    assert response.json() == {"error": "Provider has no API key", "status": 422}
