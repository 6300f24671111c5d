"""The fake provider servers speak wire formats the official SDKs parse (so client tests mean something)."""

import anthropic
import openai
import pytest

from tests.fakes import Error, Reply, ToolCall


def _openai(server) -> openai.OpenAI:
    return openai.OpenAI(base_url=server.base_url, api_key="sk-test", max_retries=0)


def _anthropic(server) -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=server.base_url, api_key="sk-ant-test", max_retries=0)


def test_openai_models_list(openai_server):
    assert [m.id for m in _openai(openai_server).models.list()] == ["gpt-4o", "gpt-4o-mini", "o3-mini"]
    assert openai_server.requests[-1].headers["authorization"] == "Bearer sk-test"


def test_openai_responses_stream_text_tool_call_and_usage(openai_server):
    openai_server.queue(
        Reply(
            text="Let me check.",
            thinking="Need weather.",
            tool_calls=[ToolCall("get_weather", {"city": "Paris"}, id="call_1")],
            usage={"input_tokens": 42, "output_tokens": 7, "cache_read_tokens": 3},
        )
    )
    stream = _openai(openai_server).responses.create(model="gpt-4o", input="hi", stream=True)
    events = list(stream)
    types = [e.type for e in events]
    assert types[0] == "response.created" and types[-1] == "response.completed"
    text = "".join(e.delta for e in events if e.type == "response.output_text.delta")
    assert text == "Let me check."
    assert "".join(e.delta for e in events if e.type == "response.reasoning_summary_text.delta") == "Need weather."
    calls = [e.item for e in events if e.type == "response.output_item.done" and e.item.type == "function_call"]
    assert [(c.name, c.arguments, c.call_id) for c in calls] == [("get_weather", '{"city": "Paris"}', "call_1")]
    usage = events[-1].response.usage
    assert (usage.input_tokens, usage.output_tokens, usage.input_tokens_details.cached_tokens) == (42, 7, 3)
    assert openai_server.requests[-1].body["input"] == "hi"


def test_openai_responses_stream_helper_accumulates(openai_server):
    openai_server.queue(Reply(text="Hello world", tool_calls=[ToolCall("noop", {})]))
    with _openai(openai_server).responses.stream(model="gpt-4o", input="hi") as stream:
        for _ in stream:
            pass
        final = stream.get_final_response()
    assert final.output_text == "Hello world"
    assert [i.type for i in final.output] == ["message", "function_call"]


def test_openai_chat_completions_stream_and_plain(openai_server):
    calls = [ToolCall("a", {"x": 1}), ToolCall("b", {"y": "long value"})]
    openai_server.queue(Reply(text="Hi there", tool_calls=calls), Reply(text="plain"))
    client = _openai(openai_server)
    chunks = list(
        client.chat.completions.create(
            model="m", messages=[{"role": "user", "content": "hi"}], stream=True, stream_options={"include_usage": True}
        )
    )
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "Hi there"
    args: dict[int, str] = {}
    names: dict[int, str] = {}
    for c in chunks:
        for tc in (c.choices[0].delta.tool_calls or []) if c.choices else []:
            args[tc.index] = args.get(tc.index, "") + (tc.function.arguments or "")
            if tc.function.name:
                names[tc.index] = tc.function.name
    assert names == {0: "a", 1: "b"} and args == {0: '{"x": 1}', 1: '{"y": "long value"}'}
    assert chunks[-1].usage.prompt_tokens == 10
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "tool_calls"
    plain = client.chat.completions.create(model="m", messages=[{"role": "user", "content": "hi"}])
    assert plain.choices[0].message.content == "plain"


@pytest.mark.parametrize(
    ("status", "exc"),
    [
        (429, openai.RateLimitError),
        (500, openai.InternalServerError),
        (400, openai.BadRequestError),
        (401, openai.AuthenticationError),
    ],
)
def test_openai_scripted_errors(openai_server, status, exc):
    openai_server.queue(Error(status, "boom"))
    with pytest.raises(exc) as info:
        _openai(openai_server).responses.create(model="gpt-4o", input="hi", stream=True)
    assert info.value.status_code == status and "boom" in str(info.value)


def test_openai_broken_stream_raises(openai_server):
    openai_server.queue(Reply(text="a b c d e f", drop_after=3))
    with pytest.raises(Exception):  # noqa: B017 - httpx raises a protocol error for the truncated chunked body
        list(_openai(openai_server).responses.create(model="gpt-4o", input="hi", stream=True))


def test_api_key_enforced(openai_server):
    openai_server.api_key = "right"
    with pytest.raises(openai.AuthenticationError):
        _openai(openai_server).models.list()


def test_anthropic_models_list(anthropic_server):
    assert [m.id for m in _anthropic(anthropic_server).models.list()] == ["claude-sonnet-4-6", "claude-haiku-4-5"]
    assert anthropic_server.presented_key(anthropic_server.requests[-1].headers) == "sk-ant-test"


def test_anthropic_stream_thinking_text_tool_use(anthropic_server):
    anthropic_server.queue(
        Reply(
            text="Checking.",
            thinking="Hmm, weather.",
            signature="sig-1",
            tool_calls=[ToolCall("get_weather", {"city": "Paris"}, id="toolu_1")],
            usage={"input_tokens": 30, "output_tokens": 9, "cache_read_tokens": 2},
        )
    )
    client = _anthropic(anthropic_server)
    with client.messages.stream(
        model="claude-sonnet-4-6", max_tokens=100, messages=[{"role": "user", "content": "hi"}]
    ) as stream:
        for _ in stream:
            pass
        final = stream.get_final_message()
    assert [b.type for b in final.content] == ["thinking", "text", "tool_use"]
    assert final.content[0].thinking == "Hmm, weather." and final.content[0].signature == "sig-1"
    assert final.content[1].text == "Checking."
    assert (final.content[2].name, final.content[2].input, final.content[2].id) == (
        "get_weather",
        {"city": "Paris"},
        "toolu_1",
    )
    assert final.stop_reason == "tool_use"
    assert (final.usage.input_tokens, final.usage.output_tokens, final.usage.cache_read_input_tokens) == (30, 9, 2)
    raw = list(
        client.messages.create(model="m", max_tokens=10, messages=[{"role": "user", "content": "x"}], stream=True)
    )
    assert raw[0].type == "message_start" and raw[-1].type == "message_stop"


@pytest.mark.parametrize(
    ("status", "exc"),
    [
        (429, anthropic.RateLimitError),
        (529, anthropic.InternalServerError),
        (400, anthropic.BadRequestError),
        (404, anthropic.NotFoundError),
    ],
)
def test_anthropic_scripted_errors(anthropic_server, status, exc):
    anthropic_server.queue(Error(status, "nope"))
    with pytest.raises(exc) as info:
        _anthropic(anthropic_server).messages.create(
            model="m", max_tokens=10, messages=[{"role": "user", "content": "x"}], stream=True
        )
    assert info.value.status_code == status
