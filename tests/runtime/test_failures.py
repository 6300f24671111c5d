"""LLM failure (6.3), retries, max iterations, unexpected errors: the session always ends idle and usable."""

import pytest

from apps.sessions.models import Turn
from tests.fakes import Error, Reply, ToolCall

ERROR_TEXT = "I encountered an error while processing your request. Please try again later."


def test_transient_errors_are_retried_then_succeed(openai_server, make_model, make_chat, settings):
    settings.RUNTIME_LLM_MAX_RETRIES = 3
    model = make_model("openai", base_url=openai_server.base_url)
    openai_server.queue(Error(429, "rate limited"), Error(503, "overloaded"), Reply(text="Finally."))
    chat = make_chat(model=model)
    chat.say("hi")
    assert chat.last_agent_text() == "Finally."
    assert len(openai_server.generation_requests()) == 3
    metadata = chat.events(types="llm.generation")[0]["data"]["metadata"]
    assert metadata["success"] is True and metadata["retry"]["attempts"] == 3
    assert chat.types()[-2:] == ["turn.completed", "session.idled"]


def test_retries_exhausted_give_the_error_message_and_turn_failed(openai_server, make_model, make_chat, settings):
    settings.RUNTIME_LLM_MAX_RETRIES = 2
    model = make_model("openai", base_url=openai_server.base_url)
    openai_server.queue(*[Error(500, "secret internal detail sk-123")] * 3)
    chat = make_chat(model=model)
    chat.say("hi")
    assert len(openai_server.generation_requests()) == 3
    types = chat.types()
    assert types[-5:] == [
        "reason.completed",
        "llm.generation",
        "output.message.completed",
        "turn.failed",
        "session.idled",
    ]
    events = {e["type"]: e["data"] for e in chat.events()}
    assert events["turn.failed"]["error"] == "An error occurred while processing your request."
    assert events["turn.failed"]["error_code"] == "llm_error"
    assert "sk-123" not in str(events["turn.failed"])
    assert events["reason.completed"]["success"] is False
    assert events["llm.generation"]["metadata"]["success"] is False
    assert "500" in events["llm.generation"]["metadata"]["error"]
    assert chat.last_agent_text() == ERROR_TEXT
    assert chat.refresh()["status"] == "idle"
    assert Turn.objects.get().status == "failed"

    # The session stays usable: the next message starts a new turn that succeeds.
    openai_server.queue(Reply(text="Back again."))
    chat.say("retry please")
    assert chat.last_agent_text() == "Back again."


@pytest.mark.parametrize("provider_type", ["openai", "openai_completions", "anthropic"])
def test_upstream_error_text_stays_in_the_server_log(
    provider_type, openai_server, anthropic_server, make_model, make_chat, caplog
):
    server = anthropic_server if provider_type == "anthropic" else openai_server
    model = make_model(provider_type, base_url=server.base_url, api_key="sk-live-supersecret")
    server.queue(Error(400, "Your prompt 'my private data' is invalid for key sk-live-supersecret"))
    chat = make_chat(model=model)
    with caplog.at_level("WARNING", logger="everruns.llm"):
        chat.say("hi")
    events = chat.events()
    dumped = str(events)
    assert "private data" not in dumped and "supersecret" not in dumped
    errors = {e["type"]: e["data"] for e in events if e["type"] in ("reason.completed", "llm.generation")}
    assert errors["reason.completed"]["error"] == errors["llm.generation"]["metadata"]["error"]
    assert "HTTP 400 (invalid_request_error)" in errors["reason.completed"]["error"]
    # Operators still see the upstream text, without the key.
    assert "my private data" in caplog.text and "supersecret" not in caplog.text


@pytest.mark.parametrize("status", [400, 401, 404])
def test_permanent_errors_are_not_retried(openai_server, make_model, make_chat, status):
    model = make_model("openai_completions", base_url=openai_server.base_url)
    openai_server.queue(Error(status))
    chat = make_chat(model=model)
    chat.say("hi")
    assert len(openai_server.generation_requests()) == 1
    assert chat.types()[-2:] == ["turn.failed", "session.idled"]


def test_no_api_key_fails_the_turn_without_network(make_model, make_chat):
    model = make_model("openai", base_url=None, api_key=None)
    chat = make_chat(model=model)
    chat.say("hi")
    assert chat.events(types="turn.failed")[0]["data"]["error_code"] == "llm_error"
    assert "No API key" in chat.events(types="llm.generation")[0]["data"]["metadata"]["error"]
    assert chat.last_agent_text() == ERROR_TEXT


def test_simulated_failures_configured_on_the_model(make_model, make_chat, settings):
    settings.RUNTIME_LLM_MAX_RETRIES = 5
    flaky = make_model("llmsim", api_key=None, model_id="llmsim-default?fail_first=2&case=retry")
    chat = make_chat(model=flaky)
    chat.say("hi")
    assert chat.last_agent_text() == "You said: hi"
    assert chat.events(types="llm.generation")[0]["data"]["metadata"]["retry"]["attempts"] == 3
    broken = make_model("llmsim", api_key=None, model_id="llmsim-default?fail=permanent")
    chat = make_chat(model=broken)
    chat.say("hi")
    assert chat.types()[-2:] == ["turn.failed", "session.idled"]


def test_max_iterations(make_chat, settings):
    settings.RUNTIME_MAX_ITERATIONS = 1
    chat = make_chat(capabilities=["test_math"])
    chat.say('/tool add {"a": 1, "b": 2}')
    failed = chat.events(types="turn.failed")[0]["data"]
    assert failed["error_code"] == "max_iterations"
    assert chat.types()[-2:] == ["turn.failed", "session.idled"]
    assert "maximum number of steps" in chat.last_agent_text()
    assert chat.refresh()["status"] == "idle"


def test_malformed_tool_arguments_are_reported_to_the_model(openai_server, make_model, make_chat):
    model = make_model("openai", base_url=openai_server.base_url)
    openai_server.queue(Reply(tool_calls=[ToolCall("add", '{"a": 1,')]), Reply(text="Sorry."))
    chat = make_chat(model=model, capabilities=["test_math"])
    chat.say("add")
    result = chat.events(types="tool.completed")[0]["data"]
    assert result["status"] == "error" and "Invalid arguments" in result["error"]
    assert chat.last_agent_text() == "Sorry."


def test_unexpected_error_still_ends_idle(make_chat, monkeypatch):
    from apps.runtime import services

    def explode(self, *args):
        raise RuntimeError("bug")

    monkeypatch.setattr(services.TurnRunner, "act", explode)
    chat = make_chat(capabilities=["test_math"])
    chat.say('/tool add {"a": 1, "b": 2}')
    assert chat.events(types="turn.failed")[0]["data"]["error_code"] == "internal_error"
    assert chat.refresh()["status"] == "idle"
    monkeypatch.undo()
    chat.say("still there?")
    assert chat.last_agent_text() == "You said: still there?"
