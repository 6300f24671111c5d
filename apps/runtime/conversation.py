"""The conversation a reasoning step sends, rebuilt from the session's stored events (contract 3.3).

Messages live in events: `input.message` (user), `output.message.completed` (agent, with tool_call parts)
and `tool.completed` (tool results). Rebuilding from them at every step is what makes a resumed turn
(after a worker crash) see exactly what was persisted, and what lets a message posted mid-turn reach
the next step.

Provider APIs want each tool result right after the agent message that asked for it, so results are
grouped under their call even when a user message landed in between; a call without any stored result
(never expected, but a provider would reject the whole request) gets a synthetic error result.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from apps.llm.clients.base import ChatMessage, ToolCallRequest
from apps.sessions.event_types import MESSAGE_EVENT_TYPES, EventType
from apps.sessions.models import Event
from apps.sessions.services import message_text

MISSING_RESULT = "No result: the tool call was interrupted."


def user_parts(content: list) -> list[dict]:
    """User content parts for a provider; uploaded images we cannot resolve become a text note (6.2)."""
    parts: list[dict] = []
    for part in content or []:
        if not isinstance(part, dict):
            continue
        if part.get("type") == "image_file":
            parts.append({"type": "text", "text": f"[Image not found: {part.get('image_id')}]"})
        elif part.get("type") in ("text", "image"):
            parts.append(part)
    return parts


def tool_result_for_model(data: dict) -> tuple[str, bool]:
    """(text the model sees, is_error) for a tool.completed payload."""
    if data.get("status") == "success":
        parts = data.get("result") or []
        return "\n".join(p.get("text", "") for p in parts if isinstance(p, dict)) or "null", False
    return data.get("error") or f"Tool {data.get('status', 'error')}", True


@dataclass
class _Block:
    message: ChatMessage
    api_message: dict | None
    results: dict[str, tuple[ChatMessage, dict | None]] = field(default_factory=dict)


@dataclass
class History:
    messages: list[ChatMessage]
    api_messages: list[dict]  # the same conversation in the API's Message shape (for llm.generation)
    last_sequence: int  # the highest event sequence this history includes
    last_user_message: dict | None  # data.message of the latest real (non-cancellation) user message


def build_history(session_id) -> History:
    rows = (
        Event.objects.filter(session_id=session_id, type__in=MESSAGE_EVENT_TYPES)
        .order_by("sequence")
        .values_list("sequence", "type", "data", "metadata")
    )
    blocks: list[_Block] = []
    owner: dict[str, _Block] = {}
    last_sequence = 0
    last_user = None
    for sequence, type_, data, metadata in rows:
        last_sequence = sequence
        data = data or {}
        if type_ == EventType.TOOL_COMPLETED:
            call_id = data.get("tool_call_id") or ""
            block = owner.get(call_id)
            if block is not None:
                text, is_error = tool_result_for_model(data)
                result = ChatMessage(
                    role="tool", tool_call_id=call_id, tool_name=data.get("tool_name"), text=text, is_error=is_error
                )
                block.results[call_id] = (result, data.get("message"))
            continue
        message = data.get("message") or {}
        if type_ == EventType.INPUT_MESSAGE:
            if not (metadata or {}).get("cancellation"):
                last_user = message
            blocks.append(_Block(ChatMessage(role="user", parts=user_parts(message.get("content") or [])), message))
            continue
        calls = [
            ToolCallRequest(id=p["id"], name=p.get("name", ""), arguments=p.get("arguments") or {})
            for p in message.get("content") or []
            if isinstance(p, dict) and p.get("type") == "tool_call"
        ]
        block = _Block(
            ChatMessage(
                role="assistant",
                text=message_text(message.get("content")),
                tool_calls=calls,
                thinking=message.get("thinking"),
                thinking_signature=message.get("thinking_signature"),
            ),
            message,
        )
        blocks.append(block)
        for call in calls:
            owner[call.id] = block

    messages: list[ChatMessage] = []
    api_messages: list[dict] = []
    for block in blocks:
        messages.append(block.message)
        if block.api_message:
            api_messages.append(block.api_message)
        for call in block.message.tool_calls:
            result, api_message = block.results.get(call.id) or (
                ChatMessage(role="tool", tool_call_id=call.id, tool_name=call.name, text=MISSING_RESULT, is_error=True),
                None,
            )
            messages.append(result)
            if api_message:
                api_messages.append(api_message)
    return History(
        messages=messages, api_messages=api_messages, last_sequence=last_sequence, last_user_message=last_user
    )


def tool_result_json(value) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)
