"""Reads for sessions, messages and events that are shared or non-trivial."""

import uuid

from django.db.models import BooleanField, Count, Exists, Max, Min, OuterRef, Q, QuerySet, Sum, Value
from django.utils.dateparse import parse_datetime

from apps.core import ids
from apps.core.exceptions import InvalidRequest
from apps.core.fields import format_ts
from apps.core.textsafety import ensure_storable

from .event_types import EventType
from .events import DELTA_EVENT_TYPES, KNOWN_EVENT_TYPES, MESSAGE_EVENT_TYPES, EventFilter, EventQuery
from .models import Event, Session, SessionPin, Turn

SEARCH_MAX_CHARS = 200
BOOLEAN_PARAMS = {"true": True, "1": True, "false": False, "0": False}


def with_pinned(queryset: QuerySet[Session], user) -> QuerySet[Session]:
    """Annotate `pinned` (the API's `is_pinned`) for `user` in the same query; None without a user."""
    user_id = getattr(user, "pk", None) if getattr(user, "is_authenticated", False) else None
    if user_id is None:
        return queryset.annotate(pinned=Value(None, output_field=BooleanField()))
    return queryset.annotate(pinned=Exists(SessionPin.objects.filter(session=OuterRef("pk"), user_id=user_id)))


def boolean_param(value: str | None, name: str) -> bool | None:
    """A query-string boolean (`true`/`false`/`1`/`0`); anything else -> 400."""
    if value is None:
        return None
    try:
        return BOOLEAN_PARAMS[value.strip().lower()]
    except KeyError:
        raise InvalidRequest(log_detail=f"{name} is not a boolean: {value!r}"[:200]) from None


def session_list(
    *,
    organization,
    agent_id: str | None = None,
    user=None,
    search: str | None = None,
    pinned: str | None = None,
) -> QuerySet[Session]:
    """The organization's sessions, newest first, with agent and model joined and `pinned` annotated for
    `user` (constant query count).

    `agent_id` (a public `agent_…` id): malformed -> 400; an agent that does not exist in the
    organization gives an empty result, never an unfiltered one (contract 2.4). `search`: case-insensitive
    substring of the title (the spec's). `pinned` (`true`/`false`, our addition): only the sessions the
    caller pinned / did not pin.
    """
    # By id, not instance: filtering on the instance makes Django attach it to every row (unused here).
    queryset = with_pinned(
        Session.objects.filter(organization_id=organization.pk).select_related("agent", "model"), user
    )
    if agent_id is not None:
        public_id = ids.parse_id_or_400("agent", agent_id)
        queryset = queryset.filter(agent__public_id=public_id)
    if search:
        if len(search) > SEARCH_MAX_CHARS:
            raise InvalidRequest(log_detail="search too long")
        ensure_storable(search)  # a NUL in a query string would reach PostgreSQL (500)
        queryset = queryset.filter(title__icontains=search)
    want_pinned = boolean_param(pinned, "pinned")
    if want_pinned is not None:
        queryset = queryset.filter(pinned=want_pinned)  # type: ignore[misc]  # annotated by with_pinned
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


def event_list(
    *, session_id: uuid.UUID, event_filter: EventFilter, after_sequence: int = 0, query: EventQuery | None = None
) -> QuerySet[Event]:
    """The session's visible events after `after_sequence`, filtered, in sequence order (one query).

    With `query` (GET .../events): its row filters, its `after_sequence` (the later of the two cursors
    wins), and its window: `limit` takes the last N matching rows; `order_desc` returns newest first.
    """
    query = query or EventQuery()
    after = max(after_sequence, query.after_sequence or 0)
    rows = Event.objects.filter(
        session_id=session_id, sequence__gt=after, type__in=event_filter.visible_types(), **query.row_filters()
    )
    if query.limit is None:
        return rows.order_by("-sequence" if query.order_desc else "sequence")
    if query.order_desc:
        return rows.order_by("-sequence")[: query.limit]
    # The last N, oldest first: a subquery picks them newest first, the outer query orders them back.
    last = rows.order_by("-sequence").values("pk")[: query.limit]
    return Event.objects.filter(pk__in=last).order_by("sequence")


def event_total(session_id: uuid.UUID) -> int:
    """X-Total-Count of GET .../events with `limit`: the session's visible events without streaming deltas."""
    visible = [t for t in KNOWN_EVENT_TYPES if t not in DELTA_EVENT_TYPES]
    return Event.objects.filter(session_id=session_id, type__in=visible).count()


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
