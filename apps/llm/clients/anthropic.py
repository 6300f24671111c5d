"""Anthropic Messages API client (provider_type "anthropic") through the official SDK, streaming.

Conversation mapping: consecutive entries of the same role are merged (the API wants user/assistant
alternation); assistant entries replay thinking (only when it has a signature), text and `tool_use`
blocks; tool results become `tool_result` blocks of a user message. Reasoning effort enables extended
thinking with a token budget (low 1024, medium 4096, high 16384, xhigh 32000; none/minimal: off);
`max_tokens` defaults to 8192 and is raised above the thinking budget when needed.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import anthropic

from .base import (
    MAX_LISTED_MODELS,
    ChatMessage,
    Chunk,
    Finish,
    ListedModel,
    LLMClient,
    LLMRequest,
    ProviderError,
    ProviderSettings,
    TextDelta,
    ThinkingDelta,
    ThinkingSignature,
    ToolCallChunk,
    Usage,
    listing_error,
    parse_arguments,
    sdk_error,
    tool_result_text,
)
from .transport import sdk_client

DEFAULT_MAX_TOKENS = 8192
THINKING_BUDGETS = {"low": 1024, "medium": 4096, "high": 16384, "xhigh": 32000}


def anthropic_sdk(settings: ProviderSettings) -> anthropic.Anthropic:
    return sdk_client(anthropic, settings.api_key, settings.base_url, settings.timeout)


def _blocks(message: ChatMessage) -> tuple[str, list[dict]]:
    if message.role == "user":
        blocks = []
        for part in message.parts:
            if part.get("type") == "text":
                blocks.append({"type": "text", "text": part.get("text") or " "})
            elif part.get("type") == "image" and part.get("url"):
                blocks.append({"type": "image", "source": {"type": "url", "url": part["url"]}})
            elif part.get("type") == "image" and part.get("base64"):
                blocks.append(
                    {
                        "type": "image",
                        "source": {
                            "type": "base64",
                            "data": part["base64"],
                            "media_type": part.get("media_type") or "image/png",
                        },
                    }
                )
        return "user", blocks or [{"type": "text", "text": " "}]
    if message.role == "assistant":
        blocks = []
        if message.thinking and message.thinking_signature:
            blocks.append({"type": "thinking", "thinking": message.thinking, "signature": message.thinking_signature})
        if message.text:
            blocks.append({"type": "text", "text": message.text})
        blocks += [{"type": "tool_use", "id": c.id, "name": c.name, "input": c.arguments} for c in message.tool_calls]
        return "assistant", blocks or [{"type": "text", "text": " "}]
    return "user", [
        {
            "type": "tool_result",
            "tool_use_id": message.tool_call_id,
            "content": tool_result_text(message),
            "is_error": message.is_error,
        }
    ]


def _messages(messages: list[ChatMessage]) -> list[dict]:
    out: list[dict] = []
    for message in messages:
        role, blocks = _blocks(message)
        if out and out[-1]["role"] == role:
            out[-1]["content"].extend(blocks)
        else:
            out.append({"role": role, "content": blocks})
    return out


class AnthropicClient(LLMClient):
    label = "Anthropic"
    catalogue_family = "anthropic"
    env_api_key_setting = "DEFAULT_ANTHROPIC_API_KEY"
    official_hosts = frozenset({"api.anthropic.com"})
    lists_models = True

    def list_models(self) -> list[ListedModel] | None:
        """`GET {base_url}/v1/models` through the SDK, with Anthropic's display names."""
        try:
            listing = anthropic_sdk(self.settings).models.list()
            return [ListedModel(m.id, m.display_name) for m in itertools.islice(listing, MAX_LISTED_MODELS)]
        except anthropic.AnthropicError as exc:
            raise listing_error(exc) from None

    def stream(self, request: LLMRequest) -> Iterator[Chunk]:
        max_tokens = request.max_tokens or DEFAULT_MAX_TOKENS
        params: dict = {"model": request.model, "messages": _messages(request.messages), "stream": True}
        if request.system:
            params["system"] = request.system
        if request.tools:
            params["tools"] = [
                {
                    "name": t["name"],
                    "description": t.get("description", ""),
                    "input_schema": t.get("parameters") or {"type": "object", "properties": {}},
                }
                for t in request.tools
            ]
        budget = THINKING_BUDGETS.get(request.reasoning_effort or "")
        if budget:
            params["thinking"] = {"type": "enabled", "budget_tokens": budget}
            max_tokens = max(max_tokens, budget + 1024)
        elif request.temperature is not None:
            # Temperature cannot be combined with extended thinking.
            params["temperature"] = request.temperature
        params["max_tokens"] = max_tokens
        try:
            stream = anthropic_sdk(self.settings).messages.create(**params)
            with stream:
                yield from self._events(stream)
        except ProviderError:
            raise
        except Exception as exc:
            raise sdk_error(exc, "Anthropic", api_key=self.settings.api_key) from exc

    def _events(self, stream) -> Iterator[Chunk]:
        usage = Usage()
        tools: dict[int, dict] = {}
        stop_reason = None
        response_id = None
        stopped = False
        for event in stream:
            kind = event.type
            if kind == "message_start":
                response_id = event.message.id
                start = event.message.usage
                usage.input_tokens = start.input_tokens or 0
                usage.output_tokens = start.output_tokens or 0
                usage.cache_read_tokens = getattr(start, "cache_read_input_tokens", 0) or 0
                usage.cache_creation_tokens = getattr(start, "cache_creation_input_tokens", 0) or 0
            elif kind == "content_block_start" and event.content_block.type == "tool_use":
                block = event.content_block
                tools[event.index] = {"id": block.id, "name": block.name, "json": ""}
            elif kind == "content_block_delta":
                delta = event.delta
                if delta.type == "text_delta":
                    yield TextDelta(delta.text)
                elif delta.type == "thinking_delta":
                    yield ThinkingDelta(delta.thinking)
                elif delta.type == "signature_delta":
                    yield ThinkingSignature(delta.signature)
                elif delta.type == "input_json_delta" and event.index in tools:
                    tools[event.index]["json"] += delta.partial_json
            elif kind == "content_block_stop" and event.index in tools:
                call = tools.pop(event.index)
                yield ToolCallChunk(
                    id=call["id"],
                    name=call["name"],
                    arguments=parse_arguments(call["json"]),
                    raw_arguments=call["json"],
                )
            elif kind == "message_delta":
                stop_reason = event.delta.stop_reason or stop_reason
                if event.usage is not None:
                    usage.output_tokens = event.usage.output_tokens or usage.output_tokens
            elif kind == "message_stop":
                stopped = True
        if not stopped:
            raise ProviderError("Anthropic stream ended before message_stop", permanent=False)
        yield usage
        yield Finish(reasons=[stop_reason or "end_turn"], response_id=response_id)
