"""Provider base_url address policy (SSRF): private, loopback and link-local hosts are refused at call time
unless LLM_ALLOW_PRIVATE_BASE_URLS. DNS is faked with tests/capabilities/fake_dns.py (the network edge)."""

import socket

import pytest

from apps.core.ids import parse_id
from apps.llm.models import LlmProvider
from apps.llm.services import ProviderAddressNotAllowed, ProviderRequestFailed, provider_base_url_check
from tests.capabilities.fake_dns import FakeResolver
from tests.llm.helpers import PROVIDERS, SECRET

pytestmark = pytest.mark.django_db

NOT_ALLOWED = {"error": "Provider base_url points to a private or local network address", "status": 422}


def _sync(client, provider_id: str):
    return client.post(f"{PROVIDERS}/{provider_id}/sync-models")


def _row(provider: dict) -> LlmProvider:
    return LlmProvider.objects.get(pk=parse_id("provider", provider["id"]))


@pytest.fixture
def fake_dns(monkeypatch):
    resolver = FakeResolver(
        {
            "internal.test": [["10.1.2.3"]],
            "mixed.test": [["93.184.215.14", "127.0.0.1"]],
            "public.test": [["93.184.215.14"]],
            "missing.test": [[]],
        }
    )
    monkeypatch.setattr(socket, "getaddrinfo", resolver)
    return resolver


def test_sync_to_a_loopback_server_is_refused_before_any_request(admin_client, create_provider, openai_server):
    provider = create_provider(provider_type="openai_completions", base_url=openai_server.base_url, api_key=SECRET)
    response = _sync(admin_client, provider["id"])
    assert response.status_code == 422 and response.json() == NOT_ALLOWED
    assert openai_server.requests == []


def test_the_setting_allows_private_base_urls(admin_client, create_provider, openai_server, settings):
    settings.LLM_ALLOW_PRIVATE_BASE_URLS = True
    provider = create_provider(provider_type="openai_completions", base_url=openai_server.base_url, api_key=SECRET)
    assert _sync(admin_client, provider["id"]).json()["status"] == "success"
    assert openai_server.requests


@pytest.mark.parametrize(
    "base_url",
    [
        "http://169.254.169.254/latest",
        "http://localhost:11434/v1",
        "http://10.0.0.5/v1",
        "http://192.168.1.10/v1",
        "http://172.16.0.1/v1",
        "http://[::1]:8080/v1",
        "http://[::ffff:127.0.0.1]/v1",
        "http://0.0.0.0/v1",
        "https://internal.test/v1",
        "https://mixed.test/v1",
    ],
)
def test_private_addresses_are_refused(admin_client, create_provider, fake_dns, base_url):
    provider = create_provider(provider_type="openai_completions", base_url=base_url, api_key=SECRET)
    assert _sync(admin_client, provider["id"]).json() == NOT_ALLOWED
    with pytest.raises(ProviderAddressNotAllowed):
        provider_base_url_check(_row(provider))


def test_a_host_that_does_not_resolve_is_502(admin_client, create_provider, fake_dns):
    provider = create_provider(provider_type="openai_completions", base_url="https://missing.test/v1")
    response = _sync(admin_client, provider["id"])
    assert response.status_code == 502
    assert response.json() == {"error": "Could not reach the provider", "status": 502}
    with pytest.raises(ProviderRequestFailed):
        provider_base_url_check(_row(provider))


def test_public_official_and_simulated_providers_pass(create_provider, fake_dns):
    for body in [
        {"base_url": "https://public.test/v1"},
        {"base_url": "https://93.184.215.14/v1"},
        {},
        {"provider_type": "llmsim", "base_url": "http://127.0.0.1/?latency_ms=5"},
    ]:
        provider_base_url_check(_row(create_provider(**body)))  # no exception, no connection
    assert fake_dns.lookups == ["public.test"]  # the official endpoint and the simulator need no lookup


def test_env_fallback_key_goes_only_to_https(admin_client, create_provider, openai_server, settings, monkeypatch):
    """http://api.openai.com (routed to the local fake server) must not receive the operator's key."""
    settings.DEFAULT_OPENAI_API_KEY = "sk-operator-env-key"
    settings.LLM_ALLOW_PRIVATE_BASE_URLS = True
    monkeypatch.setattr(socket, "getaddrinfo", FakeResolver({"api.openai.com": [["127.0.0.1"]]}))
    port = openai_server.base_url.split(":")[2].split("/")[0]
    provider = create_provider(provider_type="openai_completions", base_url=f"http://api.openai.com:{port}/v1")
    assert _sync(admin_client, provider["id"]).json()["status"] == "success"
    listing = [r for r in openai_server.requests if r.path == "/models"]
    assert listing and "sk-operator-env-key" not in str(listing[-1].headers)
