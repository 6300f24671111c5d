"""What the session admin shows of a conversation and its event log, in a form an operator can read.

Pure functions over stored rows (no writes): the conversation as messages with their tool calls and
results, one readable line per event of the timeline, and the transcript an operator exports.
"""

import json
from typing import Any

from django.db.models import F, OuterRef, QuerySet, Subquery
from django.utils import timezone
from django.utils.html import format_html

from apps.core import ids
from apps.core.fields import format_ts

from .event_types import EventType
from .models import Event, Session, Turn
from .selectors import message_list

SUMMARY_CHARS = 300
EVENTS_PER_PAGE = 50
# The conversation on the detail page shows the latest messages only; the transcript export has them all.
CONVERSATION_MESSAGES = 200


STATUS_COLOURS = {
    Turn.STATUS_FAILED: "#ba2121",
    Turn.STATUS_CANCELLED: "#8a6d00",
    Turn.STATUS_COMPLETED: "#2e7d32",
    Turn.STATUS_RUNNING: "#1565c0",
    Turn.STATUS_QUEUED: "#6a1b9a",
    Turn.STATUS_PAUSED: "#6a1b9a",
}


def status_badge(status: str | None) -> str:
    """A turn status as a coloured word: a failed turn reads "failed" in red wherever it is listed."""
    if not status:
        return "-"
    colour = STATUS_COLOURS.get(status, "inherit")
    return format_html('<strong class="turn-status turn-{}" style="color: {}">{}</strong>', status, colour, status)


def _cut(text: str, limit: int = SUMMARY_CHARS) -> str:
    return text if len(text) <= limit else text[:limit] + "…"


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


def pretty_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, indent=2, sort_keys=True, default=str)


def _text(parts: Any) -> str:
    if isinstance(parts, str):
        return parts
    return "\n".join(
        str(part.get("text"))
        for part in parts or []
        if isinstance(part, dict) and part.get("type") in (None, "text") and part.get("text")
    )


def message_parts(message: dict) -> list[dict]:
    """The parts of one message as the template shows them: `kind` text | tool_call | tool_result | other."""
    shown: list[dict] = []
    for part in message.get("content") or []:
        if not isinstance(part, dict):
            continue
        kind = part.get("type")
        if kind == "text":
            shown.append({"kind": "text", "text": part.get("text") or ""})
        elif kind == "tool_call":
            shown.append(
                {
                    "kind": "tool_call",
                    "name": part.get("name") or "",
                    "id": part.get("id") or "",
                    "arguments": pretty_json(part.get("arguments") or {}),
                }
            )
        elif kind == "tool_result":
            error = part.get("error")
            result = part.get("result")
            shown.append(
                {
                    "kind": "tool_result",
                    "id": part.get("tool_call_id") or "",
                    "error": error,
                    "result": _text(result) if isinstance(result, list) else pretty_json(result),
                }
            )
        else:
            shown.append({"kind": "other", "text": _cut(_json(part))})
    return shown


def conversation(session: Session) -> tuple[list[dict], int]:
    """The latest CONVERSATION_MESSAGES messages (oldest first) and how many messages there are in all."""
    messages = message_list(session)
    shown = messages[-CONVERSATION_MESSAGES:]
    return [{**m, "parts": message_parts(m)} for m in shown], len(messages)


def event_summary(event: Event) -> str:
    """One line saying what the event was, for the timeline (tool calls and results spelled out)."""
    data = event.data or {}
    kind = event.type
    if kind in (EventType.INPUT_MESSAGE, EventType.OUTPUT_MESSAGE_COMPLETED):
        message = data.get("message") or {}
        calls = [
            f"{p.get('name')}({_json(p.get('arguments') or {})})"
            for p in message.get("content") or []
            if isinstance(p, dict) and p.get("type") == "tool_call"
        ]
        text = _text(message.get("content"))
        return _cut(" · ".join(x for x in [text, *(f"calls {c}" for c in calls)] if x))
    if kind == EventType.TOOL_STARTED:
        call = data.get("tool_call") or {}
        return _cut(f"{call.get('name')}({_json(call.get('arguments') or {})})")
    if kind == EventType.TOOL_COMPLETED:
        outcome = _text(data.get("result")) if data.get("success") else f"error: {data.get('error')}"
        status = data.get("status") or ("ok" if data.get("success") else "error")
        return _cut(f"{data.get('tool_name')} → {status}: {outcome}")
    if kind == EventType.LLM_GENERATION:
        meta = data.get("metadata") or {}
        usage = meta.get("usage") or {}
        tokens = f", {usage.get('input_tokens', 0)} in / {usage.get('output_tokens', 0)} out" if usage else ""
        error = f", error: {meta.get('error')}" if meta.get("error") else ""
        return _cut(f"{meta.get('model')} {meta.get('duration_ms')} ms{tokens}{error}")
    if kind == EventType.REASON_COMPLETED:
        count = f"{data.get('tool_call_count') or 0} tool call(s)"
        return _cut(str(data.get("error") or data.get("text_preview") or count))
    if kind in (EventType.OUTPUT_MESSAGE_DELTA, EventType.REASON_THINKING_DELTA):
        return _cut(str(data.get("delta") or ""))
    # The rest, lifecycle events included (only apps.sessions.turns names those), by the fields they carry.
    if data.get("error_code") or data.get("error"):
        return _cut(f"{data.get('error_code') or 'error'}: {data.get('error') or ''}")
    return _cut(str(data.get("reason") or data.get("path") or ""))


def timeline_row(event: Event) -> dict:
    return {
        "sequence": event.sequence,
        "ts": event.ts,
        "type": event.type,
        "turn_id": (event.context or {}).get("turn_id") or "",
        "summary": event_summary(event),
        "data": pretty_json(event.data),
        "failed": event.type.endswith(".failed"),
    }


def timeline(session: Session, *, event_type: str | None, turn_key: str | None = None) -> QuerySet[Event]:
    """The session's events, newest first, optionally of one type and of one turn (`turn_…`: the turn's trace)
    (the page is cut by the caller)."""
    events = Event.objects.filter(session_id=session.pk)
    if event_type:
        events = events.filter(type=event_type)
    if turn_key:
        events = events.filter(context__turn_id=turn_key)
    return events.order_by("-sequence")


def turn_rows(session: Session) -> list[dict]:
    """The session's turns, newest first, with what an operator checks: duration, model, tokens, failure."""
    turns = list(session.turns.order_by("-created_at", "-id"))
    latest = turns[0].pk if turns else None
    return [
        {
            "turn": turn,
            "api_id": ids.format_id("turn", turn.pk),
            "badge": status_badge(turn.status),
            "duration": turn_duration(turn),
            "tokens": turn.input_tokens + turn.output_tokens,
            "failure": failure_reason(turn),
            "can_cancel": can_cancel(turn),
            "can_retry": can_retry(turn, latest_pk=latest),
        }
        for turn in turns
    ]


def can_cancel(turn: Turn) -> bool:
    """An open turn whose cancel was not asked yet (what services.session_cancel would act on)."""
    return turn.status in Turn.OPEN_STATUSES and not turn.cancel_requested


def can_retry(turn: Turn, *, latest_pk: Any) -> bool:
    """A failed turn that is its session's latest (`latest_pk`): what services.turn_retry accepts."""
    return turn.status == Turn.STATUS_FAILED and turn.pk == latest_pk


def turn_duration(turn: Turn) -> str:
    """`12.3 s` from start to end (to now for a turn still running); empty before it started."""
    if turn.started_at is None:
        return ""
    end = turn.finished_at or timezone.now()
    return f"{(end - turn.started_at).total_seconds():.1f} s"


def failure_reason(turn: Turn) -> str:
    """`error_code: detail` of a failed turn (the internal detail: operators see it, clients never do)."""
    if turn.status != Turn.STATUS_FAILED:
        return ""
    return _cut(f"{turn.error_code or 'failed'}: {turn.error or ''}".rstrip(": "), 500)


def latest_turn_status() -> Subquery:
    """Annotation: the status of a session's latest turn (the session list's "last turn" column)."""
    return Subquery(Turn.objects.filter(session_id=OuterRef("pk")).order_by("-created_at", "-id").values("status")[:1])


TOKENS = F("input_tokens") + F("output_tokens")


def transcript(session: Session) -> dict:
    """The exported transcript: the session, its turns and every message, in the API's shapes."""
    agent = session.agent  # None: a session on its harness alone
    return {
        "session": {
            "id": ids.format_id("session", session.pk),
            "title": session.title,
            "agent_id": ids.format_id("agent", agent.public_id) if agent is not None else None,
            "agent_name": agent.name if agent is not None else None,
            "organization": session.organization.name,
            "status": session.status,
            "created_at": format_ts(session.created_at),
            "usage": session.usage,
        },
        "turns": [
            {
                "id": ids.format_id("turn", turn.pk),
                "status": turn.status,
                "model": turn.model,
                "started_at": format_ts(turn.started_at) if turn.started_at else None,
                "finished_at": format_ts(turn.finished_at) if turn.finished_at else None,
                "error_code": turn.error_code,
                "usage": turn.usage,
            }
            for turn in session.turns.order_by("created_at", "id")
        ],
        "messages": message_list(session),
    }
