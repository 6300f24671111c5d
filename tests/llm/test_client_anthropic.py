"""Anthropic Messages client against the fake server: thinking + signature, tool use, usage, errors."""

import pytest

from apps.llm.clients import LLMRequest, ProviderError, ProviderSettings, build_client
from apps.llm.clients.base import (
    ChatMessage,
    Finish,
    TextDelta,
    ThinkingDelta,
    ThinkingSignature,
    ToolCallChunk,
    ToolCallRequest,
    Usage,
)
from tests.fakes import Error, Reply, ToolCall

# The fakes listen on 127.0.0.1, which the outbound address policy refuses (tests/llm/test_connect_pinning.py).
pytestmark = pytest.mark.usefixtures("allow_private_base_urls")


def _client(server):
    return build_client(ProviderSettings("anthropic", api_key="sk-ant", base_url=server.base_url, timeout=5))


def _request(**kwargs):
    return LLMRequest(
        model="claude-sonnet-4-6",
        system="Be brief.",
        messages=[ChatMessage(role="user", parts=[{"type": "text", "text": "hi"}])],
        **kwargs,
    )


def test_streams_thinking_signature_text_tool_use_and_usage(anthropic_server):
    anthropic_server.queue(
        Reply(
            text="Looking",
            thinking="They want weather",
            signature="sig-xyz",
            tool_calls=[ToolCall("get_weather", {"city": "Oslo"}, id="toolu_9")],
            usage={"input_tokens": 20, "output_tokens": 8, "cache_read_tokens": 5, "cache_creation_tokens": 1},
        )
    )
    chunks = list(
        _client(anthropic_server).stream(
            _request(
                reasoning_effort="medium",
                tools=[{"name": "get_weather", "description": "W", "parameters": {"type": "object"}}],
            )
        )
    )
    assert "".join(c.text for c in chunks if isinstance(c, ThinkingDelta)) == "They want weather"
    assert [c.signature for c in chunks if isinstance(c, ThinkingSignature)] == ["sig-xyz"]
    assert "".join(c.text for c in chunks if isinstance(c, TextDelta)) == "Looking"
    assert [(c.id, c.name, c.arguments) for c in chunks if isinstance(c, ToolCallChunk)] == [
        ("toolu_9", "get_weather", {"city": "Oslo"})
    ]
    assert [c for c in chunks if isinstance(c, Usage)] == [Usage(20, 8, 5, 1)]
    assert chunks[-1].reasons == ["tool_use"] and isinstance(chunks[-1], Finish)
    body = anthropic_server.requests[-1].body
    assert body["system"] == "Be brief." and body["thinking"] == {"type": "enabled", "budget_tokens": 4096}
    assert body["max_tokens"] > 4096
    assert body["tools"] == [{"name": "get_weather", "description": "W", "input_schema": {"type": "object"}}]


def test_history_alternates_and_replays_signed_thinking(anthropic_server):
    messages = [
        ChatMessage(role="user", parts=[{"type": "text", "text": "a"}]),
        ChatMessage(role="user", parts=[{"type": "text", "text": "b"}]),
        ChatMessage(
            role="assistant",
            text="calling",
            thinking="plan",
            thinking_signature="sig",
            tool_calls=[ToolCallRequest("t1", "x", {}), ToolCallRequest("t2", "y", {"k": 1})],
        ),
        ChatMessage(role="tool", tool_call_id="t1", tool_name="x", text="1"),
        ChatMessage(role="tool", tool_call_id="t2", tool_name="y", text="bad", is_error=True),
    ]
    list(_client(anthropic_server).stream(LLMRequest(model="m", system="", messages=messages)))
    sent = anthropic_server.requests[-1].body["messages"]
    assert [m["role"] for m in sent] == ["user", "assistant", "user"]
    assert [b["text"] for b in sent[0]["content"]] == ["a", "b"]
    assert sent[1]["content"][0] == {"type": "thinking", "thinking": "plan", "signature": "sig"}
    assert [b["type"] for b in sent[1]["content"]] == ["thinking", "text", "tool_use", "tool_use"]
    assert sent[2]["content"] == [
        {"type": "tool_result", "tool_use_id": "t1", "content": "1", "is_error": False},
        {"type": "tool_result", "tool_use_id": "t2", "content": "bad", "is_error": True},
    ]


@pytest.mark.parametrize(
    ("status", "permanent"), [(429, False), (529, False), (500, False), (400, True), (401, True), (404, True)]
)
def test_errors(anthropic_server, status, permanent):
    anthropic_server.queue(Error(status, "nope"))
    with pytest.raises(ProviderError) as info:
        list(_client(anthropic_server).stream(_request()))
    assert info.value.permanent is permanent


def test_stream_cut_before_message_stop_is_transient(anthropic_server):
    anthropic_server.queue(Reply(text="a b c d e f g", drop_after=5))
    with pytest.raises(ProviderError) as info:
        list(_client(anthropic_server).stream(_request()))
    assert info.value.permanent is False
