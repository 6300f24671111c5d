"""A fake OpenAI API: GET /v1/models, POST /v1/responses and POST /v1/chat/completions (streamed or not).

The streams follow the real wire format closely enough for the official ``openai`` SDK to parse them:
Responses API named SSE events (response.created ... response.completed with usage) and Chat Completions
``chat.completion.chunk`` data lines with ``delta.content`` / ``delta.tool_calls``, a final usage chunk
(when ``stream_options.include_usage`` is set) and ``data: [DONE]``. See tests/fakes/base.py for scripting.
"""

from __future__ import annotations

import json
import time
from typing import Any

from tests.fakes.base import SSE, Error, FakeLLMServer, Reply, ToolCall, fake_id, split_text

__all__ = ["Error", "FakeOpenAIServer", "Reply", "ToolCall"]

_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "invalid_request_error",
    403: "permission_denied",
    404: "invalid_request_error",
    429: "rate_limit_exceeded",
}


class FakeOpenAIServer(FakeLLMServer):
    """Fake OpenAI (and OpenAI-compatible) server; SDK ``base_url`` is ``server.base_url`` (ends in /v1)."""

    sdk_path_prefix = "/v1"
    default_models = ["gpt-4o", "gpt-4o-mini", "o3-mini"]

    def presented_key(self, headers: dict[str, str]) -> str | None:
        auth = headers.get("authorization", "")
        return auth[7:] if auth.lower().startswith("bearer ") else None

    def error_body(self, error: Error) -> dict:
        error_type = error.type or _ERROR_TYPES.get(error.status, "server_error")
        return {"error": {"message": error.message, "type": error_type, "param": None, "code": None}}

    def handle(self, handler: Any, method: str, path: str, body: Any) -> None:
        if method == "GET" and path == "/models":
            if self.models_error:
                self.send_error_json(handler, self.models_error)
                return
            data = [{"id": m, "object": "model", "created": 1700000000, "owned_by": "openai"} for m in self.models]
            self.send_json(handler, 200, {"object": "list", "data": data})
            return
        if method == "POST" and path in ("/responses", "/chat/completions"):
            item = self.next_item()
            if isinstance(item, Error):
                self.send_error_json(handler, item)
                return
            body = body if isinstance(body, dict) else {}
            model = body.get("model", "gpt-4o")
            if path == "/responses":
                if body.get("stream"):
                    self.send_sse(handler, responses_stream(item, model), item)
                else:
                    self.send_json(handler, 200, response_object(item, model, fake_id("resp_"), items_for(item)))
            else:
                include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
                if body.get("stream"):
                    self.send_sse(handler, completions_stream(item, model, include_usage), item, done_marker=True)
                else:
                    self.send_json(handler, 200, completion_object(item, model))
            return
        self.send_error_json(handler, Error(404, f"Unknown path {path}", type="invalid_request_error"))


# -- Responses API ------------------------------------------------------------------------------------


def _responses_usage(reply: Reply) -> dict:
    u = reply.usage_counts()
    return {
        "input_tokens": u["input_tokens"],
        "input_tokens_details": {"cached_tokens": u["cache_read_tokens"]},
        "output_tokens": u["output_tokens"],
        "output_tokens_details": {"reasoning_tokens": 0},
        "total_tokens": u["input_tokens"] + u["output_tokens"],
    }


def items_for(reply: Reply) -> list[dict]:
    """The completed output items of a reply (reasoning, message, function calls)."""
    items: list[dict] = []
    if reply.thinking:
        items.append(
            {
                "id": fake_id("rs_"),
                "type": "reasoning",
                "summary": [{"type": "summary_text", "text": reply.thinking}],
                "encrypted_content": reply.signature,
            }
        )
    if reply.text_deltas():
        items.append(
            {
                "id": fake_id("msg_"),
                "type": "message",
                "status": "completed",
                "role": "assistant",
                "content": [{"type": "output_text", "text": reply.full_text, "annotations": []}],
            }
        )
    for call in reply.tool_calls:
        items.append(
            {
                "id": fake_id("fc_"),
                "type": "function_call",
                "status": "completed",
                "call_id": call.id or fake_id("call_"),
                "name": call.name,
                "arguments": call.arguments_json,
            }
        )
    return items


def response_object(reply: Reply, model: str, response_id: str, output: list[dict], status: str = "completed") -> dict:
    incomplete = None
    if reply.finish_reason in ("max_tokens", "length", "max_output_tokens"):
        status, incomplete = "incomplete", {"reason": "max_output_tokens"}
    return {
        "id": response_id,
        "object": "response",
        "created_at": int(time.time()),
        "status": status,
        "model": model,
        "output": output,
        "parallel_tool_calls": True,
        "tool_choice": "auto",
        "tools": [],
        "temperature": 1.0,
        "top_p": 1.0,
        "error": None,
        "incomplete_details": incomplete,
        "instructions": None,
        "metadata": {},
        "usage": _responses_usage(reply) if status != "in_progress" else None,
    }


def responses_stream(reply: Reply, model: str) -> SSE:
    sse = SSE()
    seq = iter(range(10_000))
    response_id = fake_id("resp_")

    def emit(event_type: str, **payload: Any) -> None:
        sse.add(event_type, {"type": event_type, "sequence_number": next(seq), **payload})

    emit("response.created", response=response_object(reply, model, response_id, [], status="in_progress"))
    emit("response.in_progress", response=response_object(reply, model, response_id, [], status="in_progress"))
    for index, item in enumerate(items_for(reply)):
        if item["type"] == "reasoning":
            emit("response.output_item.added", output_index=index, item={**item, "summary": []})
            part = {"type": "summary_text", "text": ""}
            emit(
                "response.reasoning_summary_part.added",
                item_id=item["id"],
                output_index=index,
                summary_index=0,
                part=part,
            )
            for piece in split_text(reply.thinking or ""):
                emit(
                    "response.reasoning_summary_text.delta",
                    item_id=item["id"],
                    output_index=index,
                    summary_index=0,
                    delta=piece,
                )
            emit(
                "response.reasoning_summary_text.done",
                item_id=item["id"],
                output_index=index,
                summary_index=0,
                text=reply.thinking,
            )
            emit(
                "response.reasoning_summary_part.done",
                item_id=item["id"],
                output_index=index,
                summary_index=0,
                part={"type": "summary_text", "text": reply.thinking},
            )
        elif item["type"] == "message":
            emit(
                "response.output_item.added", output_index=index, item={**item, "status": "in_progress", "content": []}
            )
            emit(
                "response.content_part.added",
                item_id=item["id"],
                output_index=index,
                content_index=0,
                part={"type": "output_text", "text": "", "annotations": []},
            )
            for piece in reply.text_deltas():
                emit(
                    "response.output_text.delta",
                    item_id=item["id"],
                    output_index=index,
                    content_index=0,
                    delta=piece,
                    logprobs=[],
                )
            emit(
                "response.output_text.done",
                item_id=item["id"],
                output_index=index,
                content_index=0,
                text=reply.full_text,
                logprobs=[],
            )
            emit(
                "response.content_part.done",
                item_id=item["id"],
                output_index=index,
                content_index=0,
                part=item["content"][0],
            )
        else:
            emit(
                "response.output_item.added",
                output_index=index,
                item={**item, "status": "in_progress", "arguments": ""},
            )
            for piece in split_text(item["arguments"], size=8):
                emit("response.function_call_arguments.delta", item_id=item["id"], output_index=index, delta=piece)
            emit(
                "response.function_call_arguments.done",
                item_id=item["id"],
                output_index=index,
                arguments=item["arguments"],
                name=item["name"],
            )
        emit("response.output_item.done", output_index=index, item=item)
    final = response_object(reply, model, response_id, items_for_final(reply, sse))
    emit("response.incomplete" if final["status"] == "incomplete" else "response.completed", response=final)
    return sse


def items_for_final(reply: Reply, sse: SSE) -> list[dict]:
    """The completed items exactly as streamed (same ids) for response.completed."""
    return [json.loads(data)["item"] for event, data in sse.events if event == "response.output_item.done"]


# -- Chat Completions ---------------------------------------------------------------------------------


def _completions_usage(reply: Reply) -> dict:
    u = reply.usage_counts()
    return {
        "prompt_tokens": u["input_tokens"],
        "completion_tokens": u["output_tokens"],
        "total_tokens": u["input_tokens"] + u["output_tokens"],
        "prompt_tokens_details": {"cached_tokens": u["cache_read_tokens"]},
    }


def _finish_reason(reply: Reply) -> str:
    if reply.finish_reason:
        return {"max_tokens": "length"}.get(reply.finish_reason, reply.finish_reason)
    return "tool_calls" if reply.tool_calls else "stop"


def completions_stream(reply: Reply, model: str, include_usage: bool) -> SSE:
    sse = SSE()
    chunk_id, created = fake_id("chatcmpl-"), int(time.time())

    def chunk(delta: dict, finish: str | None = None, usage: dict | None = None, choices: bool = True) -> None:
        payload: dict = {
            "id": chunk_id,
            "object": "chat.completion.chunk",
            "created": created,
            "model": model,
            "system_fingerprint": "fp_fake",
            "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}] if choices else [],
        }
        if include_usage:
            payload["usage"] = usage
        sse.add(None, payload)

    chunk({"role": "assistant", "content": ""})
    for piece in split_text(reply.thinking or ""):
        chunk({"reasoning_content": piece})
    for piece in reply.text_deltas():
        chunk({"content": piece})
    for index, call in enumerate(reply.tool_calls):
        chunk(
            {
                "tool_calls": [
                    {
                        "index": index,
                        "id": call.id or fake_id("call_"),
                        "type": "function",
                        "function": {"name": call.name, "arguments": ""},
                    }
                ]
            }
        )
        for piece in split_text(call.arguments_json, size=8):
            chunk({"tool_calls": [{"index": index, "function": {"arguments": piece}}]})
    chunk({}, finish=_finish_reason(reply))
    if include_usage:
        chunk({}, usage=_completions_usage(reply), choices=False)
    return sse


def completion_object(reply: Reply, model: str) -> dict:
    message: dict = {"role": "assistant", "content": reply.full_text or None, "refusal": None}
    if reply.thinking:
        message["reasoning_content"] = reply.thinking
    if reply.tool_calls:
        message["tool_calls"] = [
            {
                "id": call.id or fake_id("call_"),
                "type": "function",
                "function": {"name": call.name, "arguments": call.arguments_json},
            }
            for call in reply.tool_calls
        ]
    return {
        "id": fake_id("chatcmpl-"),
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "system_fingerprint": "fp_fake",
        "choices": [{"index": 0, "message": message, "logprobs": None, "finish_reason": _finish_reason(reply)}],
        "usage": _completions_usage(reply),
    }
