"""OpenAI Chat Completions client (provider_type "openai_completions"), for OpenAI and compatible servers.

Works against any server speaking /v1/chat/completions at the provider's base_url (vLLM, Ollama,
LiteLLM, OpenRouter, ...). Streams with `stream_options.include_usage`; tool-call fragments are
assembled by index; a non-standard `delta.reasoning_content` (DeepSeek, vLLM) is surfaced as thinking.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

from .base import (
    ChatMessage,
    Chunk,
    Finish,
    LLMRequest,
    ProviderError,
    TextDelta,
    ThinkingDelta,
    ToolCallChunk,
    Usage,
    parse_arguments,
    sdk_error,
    tool_result_text,
)
from .openai import OpenAIFamilyClient, image_url, openai_sdk


def _messages(system: str, messages: list[ChatMessage]) -> list[dict]:
    out: list[dict] = [{"role": "system", "content": system}] if system else []
    for message in messages:
        if message.role == "user":
            parts = []
            for part in message.parts:
                if part.get("type") == "text":
                    parts.append({"type": "text", "text": part.get("text", "")})
                elif part.get("type") == "image" and image_url(part):
                    parts.append({"type": "image_url", "image_url": {"url": image_url(part)}})
            if all(p["type"] == "text" for p in parts):
                # Plain strings are what every compatible server understands.
                out.append({"role": "user", "content": "\n".join(p["text"] for p in parts)})
            else:
                out.append({"role": "user", "content": parts})
        elif message.role == "assistant":
            entry: dict = {"role": "assistant", "content": message.text or None}
            if message.tool_calls:
                entry["tool_calls"] = [
                    {"id": c.id, "type": "function", "function": {"name": c.name, "arguments": json.dumps(c.arguments)}}
                    for c in message.tool_calls
                ]
            elif not message.text:
                entry["content"] = ""
            out.append(entry)
        else:
            out.append({"role": "tool", "tool_call_id": message.tool_call_id, "content": tool_result_text(message)})
    return out


class OpenAIChatCompletionsClient(OpenAIFamilyClient):
    label = "OpenAI-compatible (Chat Completions)"

    def stream(self, request: LLMRequest) -> Iterator[Chunk]:
        params: dict = {
            "model": request.model,
            "messages": _messages(request.system, request.messages),
            "stream": True,
            "stream_options": {"include_usage": True},
        }
        if request.tools:
            params["tools"] = [
                {
                    "type": "function",
                    "function": {
                        "name": t["name"],
                        "description": t.get("description", ""),
                        "parameters": t.get("parameters") or {"type": "object", "properties": {}},
                    },
                }
                for t in request.tools
            ]
        if request.max_tokens:
            params["max_tokens"] = request.max_tokens
        if request.temperature is not None:
            params["temperature"] = request.temperature
        if request.reasoning_effort:
            params["reasoning_effort"] = request.reasoning_effort
        try:
            stream = openai_sdk(self.settings).chat.completions.create(**params)
            with stream:
                yield from self._chunks(stream)
        except ProviderError:
            raise
        except Exception as exc:
            raise sdk_error(exc, "OpenAI-compatible server", api_key=self.settings.api_key) from exc

    def _chunks(self, stream) -> Iterator[Chunk]:
        calls: dict[int, dict] = {}
        reasons: list[str] = []
        usage = None
        response_id = None
        for chunk in stream:
            response_id = response_id or chunk.id
            if chunk.usage is not None:
                usage = chunk.usage
            for choice in chunk.choices or []:
                delta = choice.delta
                if delta is not None:
                    extra = getattr(delta, "model_extra", None) or {}
                    thinking = extra.get("reasoning_content") or extra.get("reasoning")
                    if isinstance(thinking, str) and thinking:
                        yield ThinkingDelta(thinking)
                    if delta.content:
                        yield TextDelta(delta.content)
                    for fragment in delta.tool_calls or []:
                        call = calls.setdefault(fragment.index, {"id": None, "name": "", "arguments": ""})
                        if fragment.id:
                            call["id"] = fragment.id
                        if fragment.function is not None:
                            call["name"] += fragment.function.name or ""
                            call["arguments"] += fragment.function.arguments or ""
                if choice.finish_reason:
                    reasons.append(choice.finish_reason)
        if not reasons and not calls and usage is None:
            raise ProviderError("OpenAI-compatible stream ended without a finish reason", permanent=False)
        for index in sorted(calls):
            call = calls[index]
            yield ToolCallChunk(
                id=call["id"] or f"call_{index}",
                name=call["name"],
                arguments=parse_arguments(call["arguments"]),
                raw_arguments=call["arguments"],
            )
        if usage is not None:
            details = getattr(usage, "prompt_tokens_details", None)
            yield Usage(
                input_tokens=usage.prompt_tokens or 0,
                output_tokens=usage.completion_tokens or 0,
                cache_read_tokens=getattr(details, "cached_tokens", 0) or 0,
            )
        yield Finish(reasons=reasons or ["stop"], response_id=response_id)
