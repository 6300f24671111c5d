"""Provider SDK connections go only to addresses the outbound policy checks at connect time.

provider_base_url_check looks the base_url's host up before a call; the SDK clients then connect through
apps.llm.clients.transport, which looks the host up once more, checks those addresses and connects to one of
them. A DNS server that answers "public" to the check and "127.0.0.1" to the connection (DNS rebinding) gets
nowhere. DNS is faked (tests/capabilities/fake_dns.py); the servers are the local wire-format fakes.
"""

import socket

import pytest

from apps.core import netpolicy
from apps.llm.clients import LLMRequest, ProviderError, ProviderSettings, build_client
from apps.llm.clients.base import ChatMessage, TextDelta
from tests.capabilities.fake_dns import FakeResolver
from tests.fakes import Reply
from tests.llm.helpers import PROVIDERS, SECRET

PUBLIC = "93.184.215.14"


def _port(server) -> int:
    return int(server.base_url.split(":")[2].split("/")[0])


def _request():
    return LLMRequest(model="m", system="", messages=[ChatMessage(role="user", parts=[{"type": "text", "text": "hi"}])])


@pytest.fixture
def policy_on(settings):
    settings.LLM_ALLOW_PRIVATE_BASE_URLS = False


@pytest.mark.django_db
def test_model_sync_does_not_follow_a_name_rebound_to_loopback(
    policy_on, admin_client, create_provider, openai_server, monkeypatch
):
    resolver = FakeResolver({"rebind.test": [[PUBLIC], ["127.0.0.1"]]})  # the check sees PUBLIC, then loopback
    monkeypatch.setattr(socket, "getaddrinfo", resolver)
    provider = create_provider(
        provider_type="openai_completions", base_url=f"http://rebind.test:{_port(openai_server)}/v1", api_key=SECRET
    )
    response = admin_client.post(f"{PROVIDERS}/{provider['id']}/sync-models")
    assert response.status_code == 502
    assert response.json() == {"error": "Could not reach the provider", "status": 502}
    assert openai_server.requests == []  # the loopback server never saw the request (nor the key)
    assert resolver.lookups == ["rebind.test", "rebind.test"]  # the check, then the connection itself


@pytest.mark.parametrize(
    "provider_type, server_fixture",
    [
        ("openai_completions", "openai_server"),
        ("openai", "openai_server"),
        ("anthropic", "anthropic_server"),
    ],
)
def test_turn_clients_refuse_a_loopback_answer_at_connect_time(
    policy_on, provider_type, server_fixture, request, monkeypatch
):
    server = request.getfixturevalue(server_fixture)
    monkeypatch.setattr(socket, "getaddrinfo", FakeResolver({"rebind.test": [["127.0.0.1"]]}))
    base_url = f"http://rebind.test:{_port(server)}" + ("" if provider_type == "anthropic" else "/v1")
    client = build_client(ProviderSettings(provider_type, api_key="sk-test", base_url=base_url, timeout=5))
    with pytest.raises(ProviderError):
        list(client.stream(_request()))
    assert server.requests == []


def test_connection_goes_to_the_checked_address_with_the_host_name_kept(policy_on, openai_server, monkeypatch):
    monkeypatch.setattr(socket, "getaddrinfo", FakeResolver({"llm.test": [["127.0.0.1"]]}))
    # Treat the fake server's address as public for this test: the path a real public provider takes.
    monkeypatch.setattr(netpolicy, "address_blocked", lambda address: address != "127.0.0.1")
    openai_server.queue(Reply(text="pinned and fine"))
    port = _port(openai_server)
    client = build_client(
        ProviderSettings("openai_completions", api_key="sk-test", base_url=f"http://llm.test:{port}/v1", timeout=5)
    )
    chunks = list(client.stream(_request()))
    assert "".join(c.text for c in chunks if isinstance(c, TextDelta)) == "pinned and fine"
    assert openai_server.requests[-1].headers["host"] == f"llm.test:{port}"
