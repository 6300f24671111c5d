"""OpenAI Responses client against the fake server: the real SDK, real wire format."""

import pytest

from apps.llm.clients import LLMRequest, ProviderError, ProviderSettings, build_client
from apps.llm.clients.base import ChatMessage, Finish, TextDelta, ThinkingDelta, ToolCallChunk, ToolCallRequest, Usage
from tests.fakes import Error, Reply, ToolCall

# The fakes listen on 127.0.0.1, which the outbound address policy refuses (tests/llm/test_connect_pinning.py).
pytestmark = pytest.mark.usefixtures("allow_private_base_urls")

TOOLS = [{"name": "get_weather", "description": "Weather", "parameters": {"type": "object", "properties": {}}}]


def _client(server, api_key="sk-test"):
    return build_client(ProviderSettings("openai", api_key=api_key, base_url=server.base_url, timeout=5))


def _request(**kwargs):
    return LLMRequest(
        model="gpt-4o",
        system="Be brief.",
        messages=[ChatMessage(role="user", parts=[{"type": "text", "text": "hi"}])],
        **kwargs,
    )


def test_streams_text_thinking_tool_calls_usage(openai_server):
    openai_server.queue(
        Reply(
            text="Checking the weather",
            thinking="User wants weather",
            tool_calls=[ToolCall("get_weather", {"city": "Paris"}, id="call_1")],
            usage={"input_tokens": 12, "output_tokens": 4, "cache_read_tokens": 2},
        )
    )
    chunks = list(_client(openai_server).stream(_request(tools=TOOLS, reasoning_effort="low", max_tokens=99)))
    assert "".join(c.text for c in chunks if isinstance(c, TextDelta)) == "Checking the weather"
    assert "".join(c.text for c in chunks if isinstance(c, ThinkingDelta)) == "User wants weather"
    assert [(c.id, c.name, c.arguments) for c in chunks if isinstance(c, ToolCallChunk)] == [
        ("call_1", "get_weather", {"city": "Paris"})
    ]
    assert [c for c in chunks if isinstance(c, Usage)] == [Usage(12, 4, 2, 0)]
    assert isinstance(chunks[-1], Finish) and chunks[-1].reasons == ["tool_calls"]
    body = openai_server.requests[-1].body
    assert body["instructions"] == "Be brief." and body["stream"] is True
    assert body["tools"][0]["name"] == "get_weather" and body["tools"][0]["type"] == "function"
    assert body["reasoning"] == {"effort": "low", "summary": "auto"} and body["max_output_tokens"] == 99
    assert openai_server.requests[-1].headers["authorization"] == "Bearer sk-test"


def test_history_with_tool_results_is_sent_as_items(openai_server):
    messages = [
        ChatMessage(
            role="user",
            parts=[{"type": "text", "text": "weather?"}, {"type": "image", "url": "https://example.com/a.png"}],
        ),
        ChatMessage(
            role="assistant",
            text="Let me look.",
            tool_calls=[ToolCallRequest("call_1", "get_weather", {"city": "Paris"})],
        ),
        ChatMessage(role="tool", tool_call_id="call_1", tool_name="get_weather", text='{"temp":20}'),
    ]
    list(_client(openai_server).stream(LLMRequest(model="gpt-4o", system="", messages=messages)))
    items = openai_server.requests[-1].body["input"]
    assert items[0]["content"][1] == {"type": "input_image", "image_url": "https://example.com/a.png", "detail": "auto"}
    assert items[1] == {"role": "assistant", "content": "Let me look."}
    assert items[2] == {
        "type": "function_call",
        "call_id": "call_1",
        "name": "get_weather",
        "arguments": '{"city": "Paris"}',
    }
    assert items[3] == {"type": "function_call_output", "call_id": "call_1", "output": '{"temp":20}'}


@pytest.mark.parametrize(
    ("status", "permanent"),
    [(429, False), (500, False), (503, False), (400, True), (401, True), (403, True), (404, True)],
)
def test_http_errors_map_to_transient_or_permanent(openai_server, status, permanent):
    openai_server.queue(Error(status, "upstream says no"))
    with pytest.raises(ProviderError) as info:
        list(_client(openai_server).stream(_request()))
    assert info.value.permanent is permanent and info.value.status_code == status
    assert len(openai_server.generation_requests()) == 1  # the SDK does not retry on its own


def test_broken_stream_and_unreachable_server_are_transient(openai_server):
    openai_server.queue(Reply(text="one two three four five", drop_after=4))
    with pytest.raises(ProviderError) as info:
        list(_client(openai_server).stream(_request()))
    assert info.value.permanent is False
    dead = build_client(ProviderSettings("openai", api_key="k", base_url="http://127.0.0.1:9/v1", timeout=2))
    with pytest.raises(ProviderError) as info:
        list(dead.stream(_request()))
    assert info.value.permanent is False


def test_no_api_key_is_permanent_but_custom_base_url_needs_none(openai_server):
    with pytest.raises(ProviderError) as info:
        build_client(ProviderSettings("openai", api_key=None, base_url=None))
    assert info.value.permanent is True
    openai_server.queue(Reply(text="ok"))
    chunks = list(_client(openai_server, api_key=None).stream(_request()))
    assert isinstance(chunks[-1], Finish)


def test_unsupported_provider_type_is_permanent():
    with pytest.raises(ProviderError) as info:
        build_client(ProviderSettings("gemini", api_key="k"))
    assert info.value.permanent is True
