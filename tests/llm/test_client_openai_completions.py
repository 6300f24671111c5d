"""Chat Completions client (OpenAI-compatible servers) against the fake server."""

import pytest

from apps.llm.clients import LLMRequest, ProviderError, ProviderSettings, build_client
from apps.llm.clients.base import ChatMessage, Finish, TextDelta, ThinkingDelta, ToolCallChunk, ToolCallRequest, Usage
from tests.fakes import Error, Reply, ToolCall

# The fakes listen on 127.0.0.1, which the outbound address policy refuses (tests/llm/test_connect_pinning.py).
pytestmark = pytest.mark.usefixtures("allow_private_base_urls")


def _client(server):
    return build_client(ProviderSettings("openai_completions", api_key="sk-test", base_url=server.base_url, timeout=5))


def _request(**kwargs):
    return LLMRequest(
        model="local-llama",
        system="Be brief.",
        messages=[ChatMessage(role="user", parts=[{"type": "text", "text": "hi"}])],
        **kwargs,
    )


def test_streams_text_reasoning_content_parallel_tool_calls_and_usage(openai_server):
    openai_server.queue(
        Reply(
            text="Sure thing",
            thinking="hmm",
            tool_calls=[ToolCall("a", {"x": 1}, id="call_a"), ToolCall("b", {"long": "v" * 30})],
            usage={"input_tokens": 7, "output_tokens": 3},
        )
    )
    chunks = list(
        _client(openai_server).stream(
            _request(tools=[{"name": "a", "description": "A", "parameters": {"type": "object"}}], temperature=0.2)
        )
    )
    assert "".join(c.text for c in chunks if isinstance(c, TextDelta)) == "Sure thing"
    assert "".join(c.text for c in chunks if isinstance(c, ThinkingDelta)) == "hmm"
    calls = [c for c in chunks if isinstance(c, ToolCallChunk)]
    assert [(c.id, c.name, c.arguments) for c in calls][0] == ("call_a", "a", {"x": 1})
    assert calls[1].name == "b" and calls[1].arguments == {"long": "v" * 30}
    assert [c for c in chunks if isinstance(c, Usage)] == [Usage(7, 3, 0, 0)]
    assert chunks[-1] == Finish(reasons=["tool_calls"], response_id=chunks[-1].response_id)
    body = openai_server.requests[-1].body
    assert body["messages"][0] == {"role": "system", "content": "Be brief."}
    assert body["stream_options"] == {"include_usage": True} and body["temperature"] == 0.2
    assert body["tools"] == [
        {"type": "function", "function": {"name": "a", "description": "A", "parameters": {"type": "object"}}}
    ]


def test_history_mapping(openai_server):
    messages = [
        ChatMessage(role="user", parts=[{"type": "text", "text": "q"}]),
        ChatMessage(role="assistant", tool_calls=[ToolCallRequest("c1", "a", {"x": 1})]),
        ChatMessage(role="tool", tool_call_id="c1", tool_name="a", text="boom", is_error=True),
    ]
    list(_client(openai_server).stream(LLMRequest(model="m", system="", messages=messages)))
    sent = openai_server.requests[-1].body["messages"]
    assert sent[0] == {"role": "user", "content": "q"}
    function = {"name": "a", "arguments": '{"x": 1}'}
    assert sent[1]["tool_calls"] == [{"id": "c1", "type": "function", "function": function}]
    assert sent[2] == {"role": "tool", "tool_call_id": "c1", "content": "boom"}


def test_malformed_tool_arguments_become_none(openai_server):
    openai_server.queue(Reply(tool_calls=[ToolCall("a", '{"x": ')]))
    calls = [c for c in _client(openai_server).stream(_request()) if isinstance(c, ToolCallChunk)]
    assert calls[0].arguments is None and calls[0].raw_arguments == '{"x": '


@pytest.mark.parametrize(("status", "permanent"), [(429, False), (502, False), (400, True), (401, True)])
def test_errors(openai_server, status, permanent):
    openai_server.queue(Error(status))
    with pytest.raises(ProviderError) as info:
        list(_client(openai_server).stream(_request()))
    assert info.value.permanent is permanent
