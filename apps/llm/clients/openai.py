"""OpenAI Responses API client (provider_type "openai") through the official SDK, streaming.

Conversation mapping: system prompt -> `instructions`; user -> input message (input_text / input_image);
assistant -> its text as an assistant message plus one `function_call` item per tool call; tool results ->
`function_call_output` items. Reasoning effort -> `reasoning: {effort, summary: "auto"}`; the streamed
reasoning summary is surfaced as thinking.
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Iterator

import openai

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
    ToolCallChunk,
    Usage,
    listing_error,
    logger,
    parse_arguments,
    redact,
    sdk_error,
    tool_result_text,
)
from .transport import sdk_client

# Model listings of OpenAI-style servers include embeddings, speech and image models a chat agent cannot use.
NON_CHAT_MODEL = re.compile(r"embed|tts|whisper|dall-e|moderation|transcribe|realtime|image|davinci|babbage|sora")


def openai_sdk(settings: ProviderSettings) -> openai.OpenAI:
    return sdk_client(openai, settings.api_key, settings.base_url, settings.timeout)


def image_url(part: dict) -> str | None:
    if part.get("url"):
        return part["url"]
    if part.get("base64"):
        return f"data:{part.get('media_type') or 'image/png'};base64,{part['base64']}"
    return None


def _input_items(messages: list[ChatMessage]) -> list[dict]:
    items: list[dict] = []
    for message in messages:
        if message.role == "user":
            content = []
            for part in message.parts:
                if part.get("type") == "text":
                    content.append({"type": "input_text", "text": part.get("text", "")})
                elif part.get("type") == "image" and image_url(part):
                    content.append({"type": "input_image", "image_url": image_url(part), "detail": "auto"})
            items.append({"role": "user", "content": content or [{"type": "input_text", "text": ""}]})
        elif message.role == "assistant":
            if message.text:
                items.append({"role": "assistant", "content": message.text})
            for call in message.tool_calls:
                items.append(
                    {
                        "type": "function_call",
                        "call_id": call.id,
                        "name": call.name,
                        "arguments": json.dumps(call.arguments),
                    }
                )
        else:
            items.append(
                {"type": "function_call_output", "call_id": message.tool_call_id, "output": tool_result_text(message)}
            )
    return items


class OpenAIFamilyClient(LLMClient):
    """What the OpenAI-style clients share: catalogue family, env fallback key and the model listing."""

    catalogue_family = "openai"
    env_api_key_setting = "DEFAULT_OPENAI_API_KEY"
    official_hosts = frozenset({"api.openai.com"})
    lists_models = True

    def list_models(self) -> list[ListedModel] | None:
        """`GET {base_url}/models` through the SDK, without the obvious non-chat models (ids only)."""
        try:
            listing = openai_sdk(self.settings).models.list()
            return [
                ListedModel(m.id)
                for m in itertools.islice(listing, MAX_LISTED_MODELS)
                if not NON_CHAT_MODEL.search(m.id)
            ]
        except openai.OpenAIError as exc:
            raise listing_error(exc) from None


class OpenAIResponsesClient(OpenAIFamilyClient):
    label = "OpenAI (Responses API)"

    def stream(self, request: LLMRequest) -> Iterator[Chunk]:
        params: dict = {
            "model": request.model,
            "input": _input_items(request.messages),
            "stream": True,
        }
        if request.system:
            params["instructions"] = request.system
        if request.tools:
            params["tools"] = [
                {
                    "type": "function",
                    "name": t["name"],
                    "description": t.get("description", ""),
                    "parameters": t.get("parameters") or {"type": "object", "properties": {}},
                    "strict": False,
                }
                for t in request.tools
            ]
        if request.max_tokens:
            params["max_output_tokens"] = request.max_tokens
        if request.temperature is not None:
            params["temperature"] = request.temperature
        if request.reasoning_effort:
            params["reasoning"] = {"effort": request.reasoning_effort, "summary": "auto"}
        try:
            stream = openai_sdk(self.settings).responses.create(**params)
            with stream:
                yield from self._events(stream)
        except ProviderError:
            raise
        except Exception as exc:  # the SDK's and httpx's errors, mapped in one place
            raise sdk_error(exc, "OpenAI", api_key=self.settings.api_key) from exc

    def _events(self, stream) -> Iterator[Chunk]:
        finished = False
        for event in stream:
            kind = event.type
            if kind == "response.output_text.delta":
                yield TextDelta(event.delta)
            elif kind == "response.reasoning_summary_text.delta":
                yield ThinkingDelta(event.delta)
            elif kind == "response.output_item.done" and event.item.type == "function_call":
                item = event.item
                yield ToolCallChunk(
                    id=item.call_id,
                    name=item.name,
                    arguments=parse_arguments(item.arguments),
                    raw_arguments=item.arguments or "",
                )
            elif kind in ("response.completed", "response.incomplete"):
                response = event.response
                usage = response.usage
                if usage is not None:
                    details = getattr(usage, "input_tokens_details", None)
                    yield Usage(
                        input_tokens=usage.input_tokens or 0,
                        output_tokens=usage.output_tokens or 0,
                        cache_read_tokens=getattr(details, "cached_tokens", 0) or 0,
                    )
                reason = "stop"
                if kind == "response.incomplete":
                    reason = getattr(response.incomplete_details, "reason", None) or "incomplete"
                elif any(getattr(item, "type", "") == "function_call" for item in response.output or []):
                    reason = "tool_calls"
                yield Finish(reasons=[reason], response_id=response.id)
                finished = True
            elif kind == "response.failed":
                error = getattr(event.response, "error", None)
                code = getattr(error, "code", None)
                logger.warning("OpenAI response failed (%s): %s", code, redact(getattr(error, "message", error)))
                raise ProviderError(f"OpenAI response failed ({code or 'unknown'})", permanent=False)
            elif kind == "error":
                code = getattr(event, "code", None)
                logger.warning("OpenAI stream error (%s): %s", code, redact(getattr(event, "message", "")))
                raise ProviderError(f"OpenAI stream error ({code or 'unknown'})", permanent=False)
        if not finished:
            raise ProviderError("OpenAI stream ended before response.completed", permanent=False)
