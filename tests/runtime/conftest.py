"""Helpers for runtime tests: agents/sessions through the API, turns run inline, providers on the fakes."""

import itertools

import pytest

from apps.core.ids import format_id, parse_id


class Chat:
    """An agent + session driven through the HTTP API; `run()` executes pending turns inline."""

    def __init__(self, client, session: dict):
        self.client = client
        self.session = session
        self.id = session["id"]
        self.pk = parse_id("session", self.id)

    def post(self, text: str, **extra) -> dict:
        body = {"message": {"role": "user", "content": [{"type": "text", "text": text}]}, **extra}
        response = self.client.post(f"/v1/sessions/{self.id}/messages", body, format="json")
        assert response.status_code == 201, response.content
        return response.json()

    def run(self) -> None:
        from apps.runtime.services import turn_run_pending

        turn_run_pending(session_id=self.pk)

    def say(self, text: str, **extra) -> dict:
        self.post(text, **extra)
        self.run()
        return self.refresh()

    def refresh(self) -> dict:
        return self.client.get(f"/v1/sessions/{self.id}").json()

    def events(self, **params) -> list[dict]:
        response = self.client.get(f"/v1/sessions/{self.id}/events", params)
        assert response.status_code == 200, response.content
        return response.json()["data"]

    def types(self, since: int = 0) -> list[str]:
        return [e["type"] for e in self.events() if e["sequence"] > since]

    def messages(self) -> list[dict]:
        return self.client.get(f"/v1/sessions/{self.id}/messages").json()["data"]

    def last_agent_text(self) -> str:
        agent = [m for m in self.messages() if m["role"] == "agent"][-1]
        return "".join(p.get("text", "") for p in agent["content"] if p["type"] == "text")

    def cancel(self):
        return self.client.post(f"/v1/sessions/{self.id}/cancel")


@pytest.fixture
def make_chat(api_client, db):
    """make_chat(capabilities=[...], model=None, system_prompt=..., session_capabilities=[...]) -> Chat.

    Each chat gets its own agent name: names are unique per organization (SDK 0.3.1's apply_by_name), so a
    second POST of the same name would replace the first chat's agent instead of creating one.
    """
    names = itertools.count(1)

    def _make(
        capabilities=None, model=None, system_prompt="You are a helpful test agent.", session_capabilities=None
    ) -> Chat:
        body = {
            "name": f"Runtime test agent {next(names)}",
            "system_prompt": system_prompt,
            "capabilities": capabilities or [],
        }
        if model is not None:
            body["default_model_id"] = format_id("model", model.pk)
        agent = api_client.post("/v1/agents", body, format="json")
        assert agent.status_code == 201, agent.content
        session = api_client.post(
            "/v1/sessions", {"agent_id": agent.json()["id"], "capabilities": session_capabilities or []}, format="json"
        )
        assert session.status_code == 201, session.content
        return Chat(api_client, session.json())

    return _make


@pytest.fixture
def make_model(default_org):
    """make_model(provider_type, base_url=None, api_key="sk-test", model_id=...) -> LlmModel of a new provider."""
    from apps.llm.models import LlmModel, LlmProvider
    from apps.llm.services import llm_provider_set_api_key

    def _make(
        provider_type: str, base_url: str | None = None, api_key: str | None = "sk-test", model_id: str = "test-model"
    ) -> LlmModel:
        provider = LlmProvider.objects.create(
            organization=default_org, name=f"{provider_type} test", provider_type=provider_type, base_url=base_url
        )
        if api_key:
            llm_provider_set_api_key(provider=provider, api_key=api_key)
        return LlmModel.objects.create(
            organization=default_org, provider=provider, model_id=model_id, display_name=model_id
        )

    return _make


@pytest.fixture(autouse=True)
def _fast_runtime(settings):
    settings.RUNTIME_LLM_RETRY_BASE_SECS = 0
    settings.RUNTIME_DELTA_BATCH_MS = 0
    settings.RUNTIME_CHECK_INTERVAL_MS = 10


@pytest.fixture(autouse=True)
def _fakes_are_on_loopback(settings):
    """The fake providers listen on 127.0.0.1, which the SSRF policy refuses unless explicitly allowed."""
    settings.LLM_ALLOW_PRIVATE_BASE_URLS = True
