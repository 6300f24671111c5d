"""A fake Anthropic API: GET /v1/models and POST /v1/messages (streamed or not).

The stream follows the real wire format for the official ``anthropic`` SDK: message_start, then per block
content_block_start / content_block_delta (thinking_delta + signature_delta, text_delta, input_json_delta) /
content_block_stop, message_delta (stop_reason + usage) and message_stop, with a ping after message_start.
SDK ``base_url`` is ``server.base_url`` (the root, no /v1). See tests/fakes/base.py for scripting.
"""

from __future__ import annotations

from typing import Any

from tests.fakes.base import SSE, Error, FakeLLMServer, Reply, ToolCall, fake_id, split_text

__all__ = ["Error", "FakeAnthropicServer", "Reply", "ToolCall"]

_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    529: "overloaded_error",
}


class FakeAnthropicServer(FakeLLMServer):
    """Fake Anthropic Messages API server."""

    sdk_path_prefix = ""
    default_models = ["claude-sonnet-4-6", "claude-haiku-4-5"]

    def presented_key(self, headers: dict[str, str]) -> str | None:
        # Recent SDKs send the key as a bearer token, older ones as x-api-key: accept both.
        auth = headers.get("authorization", "")
        return headers.get("x-api-key") or (auth[7:] if auth.lower().startswith("bearer ") else None)

    def error_body(self, error: Error) -> dict:
        return {
            "type": "error",
            "error": {"type": error.type or _ERROR_TYPES.get(error.status, "api_error"), "message": error.message},
        }

    def handle(self, handler: Any, method: str, path: str, body: Any) -> None:
        if method == "GET" and path == "/models":
            if self.models_error:
                self.send_error_json(handler, self.models_error)
                return
            data = [
                {
                    "type": "model",
                    "id": m,
                    "display_name": m.replace("-", " ").title(),
                    "created_at": "2025-01-01T00:00:00Z",
                }
                for m in self.models
            ]
            self.send_json(
                handler,
                200,
                {
                    "data": data,
                    "has_more": False,
                    "first_id": data[0]["id"] if data else None,
                    "last_id": data[-1]["id"] if data else None,
                },
            )
            return
        if method == "POST" and path == "/messages":
            item = self.next_item()
            if isinstance(item, Error):
                self.send_error_json(handler, item)
                return
            body = body if isinstance(body, dict) else {}
            model = body.get("model", "claude-sonnet-4-6")
            if body.get("stream"):
                self.send_sse(handler, messages_stream(item, model), item)
            else:
                self.send_json(handler, 200, message_object(item, model, blocks_for(item)))
            return
        self.send_error_json(handler, Error(404, f"Unknown path {path}"))


def _stop_reason(reply: Reply) -> str:
    return reply.finish_reason or ("tool_use" if reply.tool_calls else "end_turn")


def _usage(reply: Reply, output: bool = True) -> dict:
    u = reply.usage_counts()
    return {
        "input_tokens": u["input_tokens"],
        "output_tokens": u["output_tokens"] if output else 1,
        "cache_creation_input_tokens": u["cache_creation_tokens"],
        "cache_read_input_tokens": u["cache_read_tokens"],
    }


def blocks_for(reply: Reply) -> list[dict]:
    blocks: list[dict] = []
    if reply.thinking:
        blocks.append({"type": "thinking", "thinking": reply.thinking, "signature": reply.signature})
    if reply.text_deltas():
        blocks.append({"type": "text", "text": reply.full_text})
    for call in reply.tool_calls:
        arguments = call.arguments if isinstance(call.arguments, dict) else {}
        blocks.append(
            {
                "type": "tool_use",
                "id": call.id or fake_id("toolu_"),
                "name": call.name,
                "input": arguments,
                "_raw": call.arguments_json,
            }
        )
    return blocks


def message_object(reply: Reply, model: str, blocks: list[dict], streaming_start: bool = False) -> dict:
    content = [] if streaming_start else [{k: v for k, v in b.items() if k != "_raw"} for b in blocks]
    return {
        "id": fake_id("msg_"),
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": content,
        "stop_reason": None if streaming_start else _stop_reason(reply),
        "stop_sequence": None,
        "usage": _usage(reply, output=not streaming_start),
    }


def messages_stream(reply: Reply, model: str) -> SSE:
    sse = SSE()

    def emit(event_type: str, **payload: Any) -> None:
        sse.add(event_type, {"type": event_type, **payload})

    blocks = blocks_for(reply)
    emit("message_start", message=message_object(reply, model, blocks, streaming_start=True))
    emit("ping")
    for index, block in enumerate(blocks):
        if block["type"] == "thinking":
            start = {"type": "thinking", "thinking": "", "signature": ""}
            emit("content_block_start", index=index, content_block=start)
            for piece in split_text(block["thinking"]):
                emit("content_block_delta", index=index, delta={"type": "thinking_delta", "thinking": piece})
            emit("content_block_delta", index=index, delta={"type": "signature_delta", "signature": block["signature"]})
        elif block["type"] == "text":
            emit("content_block_start", index=index, content_block={"type": "text", "text": ""})
            for piece in reply.text_deltas():
                emit("content_block_delta", index=index, delta={"type": "text_delta", "text": piece})
        else:
            emit(
                "content_block_start",
                index=index,
                content_block={"type": "tool_use", "id": block["id"], "name": block["name"], "input": {}},
            )
            for piece in split_text(block["_raw"], size=8):
                emit("content_block_delta", index=index, delta={"type": "input_json_delta", "partial_json": piece})
        emit("content_block_stop", index=index)
    emit(
        "message_delta",
        delta={"stop_reason": _stop_reason(reply), "stop_sequence": None},
        usage={"output_tokens": reply.usage_counts()["output_tokens"]},
    )
    emit("message_stop")
    return sse
