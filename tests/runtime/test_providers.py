"""Tool round trips through whole turns on each real provider kind (official SDKs against the local fakes)."""

import json

import pytest

from tests.fakes import Reply, ToolCall


@pytest.mark.parametrize("provider_type", ["openai", "openai_completions", "anthropic"])
def test_tool_round_trip(provider_type, openai_server, anthropic_server, make_model, make_chat):
    server = anthropic_server if provider_type == "anthropic" else openai_server
    model = make_model(provider_type, base_url=server.base_url, api_key="sk-secret", model_id="real-model")
    server.queue(
        Reply(
            text="Let me compute.",
            tool_calls=[ToolCall("add", {"a": 20, "b": 22}, id="call_add")],
            usage={"input_tokens": 100, "output_tokens": 10},
        ),
        Reply(text="The answer is 42.", usage={"input_tokens": 150, "output_tokens": 7}),
    )
    chat = make_chat(capabilities=["test_math"], model=model, system_prompt="You do math.")
    chat.say("What is 20 + 22?")

    assert chat.last_agent_text() == "The answer is 42."
    assert [m["role"] for m in chat.messages()] == ["user", "agent", "tool_result", "agent"]
    result = chat.events(types="tool.completed")[0]["data"]
    assert (result["tool_call_id"], result["status"], json.loads(result["result"][0]["text"])) == (
        "call_add",
        "success",
        {"result": 42},
    )
    session = chat.refresh()
    assert session["usage"]["input_tokens"] == 250 and session["usage"]["output_tokens"] == 17
    assert session["status"] == "idle"

    first, second = server.generation_requests()
    # The installed SDKs both send the key as a bearer token (anthropic 2.x: `Authorization: Bearer`,
    # no `x-api-key`); the Anthropic wire is told apart by its version header.
    assert second.headers.get("authorization") == "Bearer sk-secret"
    assert "x-api-key" not in second.headers
    assert ("anthropic-version" in second.headers) == (provider_type == "anthropic")
    assert first.body["model"] == "real-model"
    tools = json.dumps(first.body["tools"])
    assert '"add"' in tools and '"divide"' in tools
    sent = json.dumps(second.body)
    assert "call_add" in sent and '{\\"result\\":42}' in sent  # the tool result went back to the model
    if provider_type == "anthropic":
        assert first.body["system"].endswith("You do math.")
    elif provider_type == "openai":
        assert first.body["instructions"].endswith("You do math.")
    else:
        assert first.body["messages"][0]["content"].endswith("You do math.")


def test_anthropic_thinking_is_stored_and_replayed(anthropic_server, make_model, make_chat):
    model = make_model("anthropic", base_url=anthropic_server.base_url)
    anthropic_server.queue(Reply(thinking="Consider the user.", signature="sig-1", text="Hi!"), Reply(text="Again"))
    chat = make_chat(model=model)
    chat.say("hello", controls={"reasoning": {"effort": "low"}})
    types = chat.types()
    assert (
        types.index("reason.thinking.started")
        < types.index("reason.thinking.completed")
        < types.index("output.message.delta")
    )
    assert chat.events(types="reason.thinking.completed")[0]["data"]["thinking"] == "Consider the user."
    agent = chat.messages()[-1]
    assert agent["thinking"] == "Consider the user." and agent["thinking_signature"] == "sig-1"
    assert anthropic_server.requests[-1].body["thinking"]["budget_tokens"] == 1024
    chat.say("more")
    replay = anthropic_server.requests[-1].body["messages"][1]["content"][0]
    assert replay == {"type": "thinking", "thinking": "Consider the user.", "signature": "sig-1"}


def test_model_resolution_order(openai_server, make_model, make_chat, api_client):
    agent_model = make_model("openai", base_url=openai_server.base_url, model_id="agent-model")
    session_model = make_model("openai", base_url=openai_server.base_url, model_id="session-model")
    message_model = make_model("openai", base_url=openai_server.base_url, model_id="message-model")
    chat = make_chat(model=agent_model)
    chat.say("1")
    api_client.patch(f"/v1/sessions/{chat.id}", {"model_id": f"model_{session_model.pk.hex}"}, format="json")
    chat.say("2")
    chat.say("3", controls={"model_id": f"model_{message_model.pk.hex}"})
    assert [r.body["model"] for r in openai_server.generation_requests()] == [
        "agent-model",
        "session-model",
        "message-model",
    ]
    assert chat.events(types="llm.generation")[-1]["data"]["metadata"]["model"] == "message-model"


def test_session_capabilities_add_to_the_agents(make_chat):
    chat = make_chat(capabilities=["current_time"], session_capabilities=["test_math"])
    chat.say('/tool add {"a": 1, "b": 1}')
    generation = chat.events(types="llm.generation")[0]["data"]
    names = {t["name"] for t in generation["tools"]}
    assert "add" in names and len(names) > 4
    assert chat.events(types="tool.completed")[0]["data"]["status"] == "success"
