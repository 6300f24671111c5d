"""Reads for sessions, messages and events that are shared or non-trivial."""

import uuid

from django.db.models import Count, Max, Min, Q, QuerySet, Sum
from django.utils.dateparse import parse_datetime

from apps.core import ids
from apps.core.exceptions import InvalidRequest
from apps.core.fields import format_ts

from .event_types import EventType
from .events import MESSAGE_EVENT_TYPES, EventFilter
from .models import Event, Session, Turn


def session_list(*, organization, agent_id: str | None = None) -> QuerySet[Session]:
    """The organization's sessions, newest first, with agent and model joined (constant query count).

    `agent_id` (a public `agent_…` id): malformed -> 400; an agent that does not exist in the
    organization gives an empty result, never an unfiltered one (contract 2.4).
    """
    # By id, not instance: filtering on the instance makes Django attach it to every row (unused here).
    queryset = Session.objects.filter(organization_id=organization.pk).select_related("agent", "model")
    if agent_id is not None:
        public_id = ids.parse_id_or_400("agent", agent_id)
        queryset = queryset.filter(agent__public_id=public_id)
    return queryset.order_by("-created_at", "-id")


def message_list(session) -> list[dict]:
    """All messages of the session in chronological (event sequence) order, in the API shape (contract 3.3).

    Messages are read back from events: `input.message` (role user), `output.message.completed`
    (role agent), `tool.completed` (role tool_result). Input messages flagged as cancellation
    notices are messages like any other: the conversation shows that the user cancelled.
    """
    return [message_from_event(event) for event in message_events(session)]


def message_events(session) -> QuerySet[Event]:
    """The events that carry the session's messages, in sequence order (message_from_event turns each into one)."""
    session_id = getattr(session, "pk", session)
    return Event.objects.filter(session_id=session_id, type__in=MESSAGE_EVENT_TYPES).order_by("sequence")


def message_from_event(event: Event) -> dict:
    """One message from its event; `session_id`/`sequence` always come from the event row."""
    data = event.data or {}
    message = data.get("message")
    if isinstance(message, dict):
        message = dict(message)
        if event.type == EventType.TOOL_COMPLETED:
            message.setdefault("role", "tool_result")
    elif event.type == EventType.TOOL_COMPLETED:
        # The runtime's tool.completed payload (contract 3.5) carries no message of its own: build the
        # tool_result message from it, with an id derived from the event so it is stable across reads.
        message = {
            "id": ids.format_id("message", event.id),
            "role": "tool_result",
            "content": [
                {
                    "type": "tool_result",
                    "tool_call_id": data.get("tool_call_id"),
                    "result": data.get("result"),
                    "error": data.get("error"),
                }
            ],
        }
    else:
        message = {"id": ids.format_id("message", event.id), "role": "agent", "content": []}
    message["session_id"] = ids.format_id("session", event.session_id)
    message["sequence"] = event.sequence
    message.setdefault("created_at", format_ts(event.ts))
    return message


def event_cursor(*, session_id: uuid.UUID, since_id: str | None) -> int:
    """The sequence after which a client wants events: 0 without a cursor.

    A well-formed `since_id` that is not an event of this session -> 400 (our choice, documented in
    docs/streaming.md): replaying everything would repeat events and skipping would lose some.
    """
    if since_id is None:
        return 0
    event_id = ids.parse_id("event", since_id)
    sequence = (
        Event.objects.filter(session_id=session_id, pk=event_id).values_list("sequence", flat=True).first()
        if event_id is not None
        else None
    )
    if sequence is None:
        raise InvalidRequest("Unknown since_id", log_detail=f"since_id {since_id!r} is not in the session"[:200])
    return sequence


def event_list(*, session_id: uuid.UUID, event_filter: EventFilter, after_sequence: int = 0) -> QuerySet[Event]:
    """The session's visible events after `after_sequence`, filtered, in sequence order."""
    return Event.objects.filter(
        session_id=session_id, sequence__gt=after_sequence, type__in=event_filter.visible_types()
    ).order_by("sequence")


def stats_window(params) -> dict:
    """`?from=` / `?to=` (RFC 3339) as created_at bounds for resource stats; malformed -> 400."""
    bounds = {}
    for name, lookup in (("from", "created_at__gte"), ("to", "created_at__lt")):
        raw = params.get(name)
        if raw:
            try:
                value = parse_datetime(raw.replace(" ", "+"))
            except ValueError:
                value = None
            if value is None or value.tzinfo is None:
                raise InvalidRequest(log_detail=f"{name} must be an RFC 3339 timestamp")
            bounds[lookup] = value
    return bounds


def resource_stats(sessions: QuerySet[Session]) -> dict:
    """ResourceStats (spec) over `sessions`: counts by status, turns, tokens, durations. Four queries whatever
    the number of sessions, except durations, which read one (started_at, finished_at) pair per finished session.
    Costs are null: this server does not price tokens."""
    totals = sessions.aggregate(
        session_count=Count("id"),
        started=Count("id", filter=Q(status=Session.STATUS_STARTED)),
        active=Count("id", filter=Q(status=Session.STATUS_ACTIVE)),
        idle=Count("id", filter=Q(status=Session.STATUS_IDLE)),
        waiting=Count("id", filter=Q(status=Session.STATUS_WAITING)),
        input_tokens=Sum("input_tokens"),
        output_tokens=Sum("output_tokens"),
        cache_read=Sum("cache_read_tokens"),
        cache_creation=Sum("cache_creation_tokens"),
        first=Min("created_at"),
        last=Max("created_at"),
    )
    turns = Turn.objects.filter(session__in=sessions.values("pk")).aggregate(count=Count("id"), last=Max("created_at"))
    durations = [
        int((finished - started).total_seconds() * 1000)
        for started, finished in sessions.filter(started_at__isnull=False, finished_at__isnull=False).values_list(
            "started_at", "finished_at"
        )
        if started is not None and finished is not None
    ]
    total_ms = sum(durations)
    return {
        "session_count": totals["session_count"],
        "started_session_count": totals["started"],
        "active_session_count": totals["active"],
        "idle_session_count": totals["idle"],
        "waiting_for_tool_results_session_count": totals["waiting"],
        "execution_count": turns["count"],
        "total_input_tokens": totals["input_tokens"] or 0,
        "total_output_tokens": totals["output_tokens"] or 0,
        "total_cache_read_tokens": totals["cache_read"] or 0,
        "total_cache_creation_tokens": totals["cache_creation"] or 0,
        "total_session_duration_ms": total_ms,
        "avg_session_duration_ms": total_ms // len(durations) if durations else None,
        "first_session_at": format_ts(totals["first"]),
        "last_session_at": format_ts(totals["last"]),
        "last_execution_at": format_ts(turns["last"]),
        "total_cost_usd": None,
        "total_estimated_cost_usd": None,
        "total_actual_cost_usd": None,
    }
