"""The simulated provider: deterministic replies, the /tool directive, latency and failure options."""

import time

import pytest

from apps.llm.clients import LLMRequest, ProviderError, ProviderSettings, build_client
from apps.llm.clients.base import ChatMessage, TextDelta, ToolCallChunk


def _chunks(text, options=None, extra=()):
    client = build_client(ProviderSettings("llmsim", options=options or {}, provider_id="p"))
    messages = [ChatMessage(role="user", parts=[{"type": "text", "text": text}]), *extra]
    return list(client.stream(LLMRequest(model="llmsim-default", system="", messages=messages)))


def test_echo_in_several_deltas():
    deltas = [c.text for c in _chunks("hello big world") if isinstance(c, TextDelta)]
    assert "".join(deltas) == "You said: hello big world" and len(deltas) > 2


def test_tool_directive_then_results():
    chunks = _chunks('go\n/tool add {"a": 1, "b": 2}\n/tool current_time')
    calls = [c for c in chunks if isinstance(c, ToolCallChunk)]
    assert [(c.name, c.arguments) for c in calls] == [("add", {"a": 1, "b": 2}), ("current_time", {})]
    follow = _chunks(
        'go\n/tool add {"a": 1, "b": 2}',
        extra=[
            ChatMessage(role="assistant", tool_calls=[]),
            ChatMessage(role="tool", tool_call_id=calls[0].id, tool_name="add", text='{"result":3}'),
        ],
    )
    assert "".join(c.text for c in follow if isinstance(c, TextDelta)) == 'Tool results:\nadd: {"result":3}'


def test_failure_options():
    with pytest.raises(ProviderError) as info:
        _chunks("x", {"fail": "permanent"})
    assert info.value.permanent
    with pytest.raises(ProviderError) as info:
        _chunks("x", {"fail": "transient"})
    assert not info.value.permanent
    options = {"fail_first": "2", "marker": str(time.monotonic())}
    for _ in range(2):
        with pytest.raises(ProviderError):
            _chunks("x", options)
    assert any(isinstance(c, TextDelta) for c in _chunks("x", options))


def test_latency_option():
    started = time.monotonic()
    _chunks("a b c", {"latency_ms": "120", "chunk_delay_ms": "20"})
    assert time.monotonic() - started >= 0.16
