"""A turn never calls a provider whose base_url points at a private or loopback address (SSRF)."""

import pytest

pytestmark = pytest.mark.django_db


def test_turn_refuses_a_loopback_base_url_unless_allowed(settings, api_client, openai_server):
    settings.LLM_ALLOW_PRIVATE_BASE_URLS = False
    provider = api_client.post(
        "/v1/llm-providers",
        {"name": "local", "provider_type": "openai_completions", "base_url": openai_server.base_url, "api_key": "sk-x"},
        format="json",
    ).json()
    model = api_client.post(
        f"/v1/llm-providers/{provider['id']}/models", {"model_id": "gpt-4o", "display_name": "4o"}, format="json"
    ).json()
    agent = api_client.post(
        "/v1/agents", {"name": "a", "system_prompt": "p", "default_model_id": model["id"]}, format="json"
    ).json()
    session = api_client.post("/v1/sessions", {"agent_id": agent["id"]}, format="json").json()
    api_client.post(
        f"/v1/sessions/{session['id']}/messages",
        {"message": {"content": [{"type": "text", "text": "hi"}]}},
        format="json",
    )
    from apps.core.ids import parse_id
    from apps.runtime.services import turn_run_pending

    turn_run_pending(session_id=parse_id("session", session["id"]))
    events = api_client.get(f"/v1/sessions/{session['id']}/events").json()["data"]
    types = [e["type"] for e in events]
    assert "turn.failed" in types and types[-1] == "session.idled"
    assert openai_server.requests == []  # nothing ever reached the (loopback) server
