"""Provider SDK clients are built once per process and reused by every turn (issue 13: building one built an
SSL context and loaded the CA bundle, about 40 ms of CPU per turn). A changed key, base URL or address policy
gets a client of its own, so a rotated key is used at once."""

import pytest

from apps.llm.clients import LLMRequest, ProviderSettings, build_client
from apps.llm.clients.anthropic import anthropic_sdk
from apps.llm.clients.base import ChatMessage, TextDelta
from apps.llm.clients.openai import openai_sdk
from tests.fakes import Reply


def _settings(**overrides) -> ProviderSettings:
    values = {"provider_type": "openai", "api_key": "sk-one", "base_url": "https://llm.example/v1", "timeout": 30.0}
    return ProviderSettings(**(values | overrides))


def test_same_settings_share_one_client_and_one_connection_pool(settings):
    settings.LLM_ALLOW_PRIVATE_BASE_URLS = False
    first, second = openai_sdk(_settings()), openai_sdk(_settings())
    assert first is second
    other_key = openai_sdk(_settings(api_key="sk-two"))
    assert other_key is not first and other_key.api_key == "sk-two"
    # One HTTP client (pool and SSL context) per SDK and policy mode, whoever the provider is.
    assert other_key._client is first._client
    assert openai_sdk(_settings(base_url="https://other.example/v1"))._client is first._client


def test_a_changed_address_policy_or_sdk_gets_another_client(settings):
    settings.LLM_ALLOW_PRIVATE_BASE_URLS = False
    pinned = openai_sdk(_settings())
    settings.LLM_ALLOW_PRIVATE_BASE_URLS = True
    unpinned = openai_sdk(_settings())
    assert unpinned is not pinned and unpinned._client is not pinned._client
    assert type(anthropic_sdk(_settings(provider_type="anthropic"))).__name__ == "Anthropic"


@pytest.mark.django_db
def test_consecutive_turns_reuse_the_client_and_see_a_rotated_key(allow_private_base_urls, openai_server):
    request = LLMRequest(
        model="m", system="", messages=[ChatMessage(role="user", parts=[{"type": "text", "text": "hi"}])]
    )
    for key in ("sk-first", "sk-first", "sk-rotated"):
        openai_server.queue(Reply(text="hello"))
        client = build_client(
            ProviderSettings(provider_type="openai_completions", api_key=key, base_url=openai_server.base_url)
        )
        assert "".join(c.text for c in client.stream(request) if isinstance(c, TextDelta)) == "hello"
    assert [r.headers.get("authorization") for r in openai_server.generation_requests()] == [
        "Bearer sk-first",
        "Bearer sk-first",
        "Bearer sk-rotated",
    ]
