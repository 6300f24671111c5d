"""The event vocabulary (contract 3.5) and the filters of GET .../events and .../sse (contract 2.6).

- `KNOWN_EVENT_TYPES`: what clients may filter on and what they are ever sent: the public types of the
  one registry, apps.sessions.event_types (other apps add their types there). An event stored with
  another type is internal and never leaves the server.
- `LEGACY_EVENT_TYPES`: the v0.2.0 spellings, accepted in `types` / `exclude` and mapped to the
  target names (we only ever emit the target names).
- `EventFilter.from_query(...)`: `since_id` / `types` / `exclude` parsed and validated once,
  for the JSON list and the stream alike.
- `event_append(...)`: the one way an event enters a session's log (gapless per-session sequence).
- `event_listener_register(...)`: other apps' hook on appended events of given types (webhooks), called in
  the appending transaction, so what a listener writes (an outbox row) commits or rolls back with the event.
- `event_to_dict(event)`: the one Event envelope, identical in the JSON list and in SSE `data:`.
"""

import logging
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import connection, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from apps.core import ids
from apps.core.exceptions import InvalidRequest, NotFound
from apps.core.fields import format_ts

from .event_types import MESSAGE_EVENT_TYPES as _MESSAGE_EVENT_TYPES
from .event_types import PUBLIC_EVENT_TYPES, EventType, event_type
from .models import Event, Session
from .notify import CHANNEL, notify_key, wake_on_commit

# Events whose data.message is a message of the conversation (contract 3.3, "storage model"): read back by
# the messages endpoint (selectors.message_list) and by the runtime's conversation rebuild.
MESSAGE_EVENT_TYPES: tuple[str, ...] = _MESSAGE_EVENT_TYPES

# The public types of the registry (apps.sessions.event_types), in registry order.
KNOWN_EVENT_TYPES: tuple[str, ...] = PUBLIC_EVENT_TYPES

LEGACY_EVENT_TYPES: dict[str, str] = {
    "message.user": EventType.INPUT_MESSAGE,
    "input.received": EventType.INPUT_MESSAGE,
    "message.agent": EventType.OUTPUT_MESSAGE_COMPLETED,
    "tool.call_started": EventType.TOOL_STARTED,
    "tool.call_completed": EventType.TOOL_COMPLETED,
}

MAX_FILTER_VALUES = 25

logger = logging.getLogger("everruns.sessions")

EventListener = Callable[[Event], None]
_listeners: dict[EventType, list[EventListener]] = {}


def event_listener_register(*, types: Iterable[EventType], listener: EventListener) -> None:
    """Call `listener(event)` for every appended event of `types`, inside the transaction that appends it.

    For apps above sessions that react to the log (apps.webhooks writes its deliveries here: an outbox
    that commits with the event). A listener that raises is logged and the event (and the lifecycle step
    appending it) goes on; a listener that writes does so in its own savepoint (`transaction.atomic()`), so
    a failed write rolls back alone. Listeners should cost a query at most when they have nothing to do
    (they run inside turn transitions) and schedule slow work (HTTP) with `transaction.on_commit`. Types
    without listeners cost nothing. Registered from an AppConfig.ready; registering twice has no effect.
    """
    for event_type_ in types:
        registered = _listeners.setdefault(event_type(event_type_), [])
        if listener not in registered:
            registered.append(listener)


def _notify_listeners(event: Event, type: EventType) -> None:
    for listener in _listeners.get(type, ()):
        try:
            listener(event)
        except Exception:
            logger.exception("event listener %r failed on %s", listener, type.value)


def _event_types(raw_values: Iterable[str], param: str) -> tuple[str, ...]:
    """Validate one repeated filter parameter; `a,b` in one value is accepted too (types never contain commas)."""
    values = [part.strip() for raw in raw_values for part in raw.split(",") if part.strip()]
    if len(values) > MAX_FILTER_VALUES:
        raise InvalidRequest(f"Too many values for {param} (max {MAX_FILTER_VALUES})")
    known = set(KNOWN_EVENT_TYPES)
    result: list[str] = []
    for value in values:
        value = LEGACY_EVENT_TYPES.get(value, value)
        if value not in known:
            raise InvalidRequest(f"Unknown event type: {value}"[:200])
        if value not in result:
            result.append(value)
    return tuple(result)


@dataclass(frozen=True)
class EventFilter:
    """Which events of a session a client asked for; `since_id` is resolved to a sequence by the caller."""

    since_id: str | None = None
    types: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()

    @classmethod
    def from_query(cls, query_params, *, last_event_id: str | None = None) -> "EventFilter":
        """Parse `since_id`, `types`, `exclude` (repeat keys); `last_event_id` is used when `since_id` is absent.

        Malformed `since_id`, an unknown type or more than 25 values -> 400.
        """
        since_id = query_params.get("since_id") or (last_event_id or "").strip() or None
        if since_id is not None and ids.parse_id("event", since_id) is None:
            raise InvalidRequest(log_detail=f"malformed since_id {since_id!r}"[:200])
        return cls(
            since_id=since_id,
            types=_event_types(query_params.getlist("types"), "types"),
            exclude=_event_types(query_params.getlist("exclude"), "exclude"),
        )

    def visible_types(self) -> tuple[str, ...]:
        """The event types this client receives: `types` (or every known type) minus `exclude`."""
        base = self.types or KNOWN_EVENT_TYPES
        return tuple(t for t in base if t not in self.exclude)


# Streaming deltas: not counted in X-Total-Count (the spec's "non-delta event count").
DELTA_EVENT_TYPES: tuple[str, ...] = (EventType.OUTPUT_MESSAGE_DELTA, EventType.REASON_THINKING_DELTA)
EVENT_LIST_MAX_LIMIT = 1000
# Filters of the published spec this server does not offer: refused (400) rather than silently ignored.
UNSUPPORTED_EVENT_PARAMS = ("around", "window", "tags", "q")


def _int_param(query_params, name: str, *, minimum: int | None = None, maximum: int | None = None) -> int | None:
    raw = query_params.get(name)
    if raw is None or raw == "":
        return None
    try:
        value = int(raw)
    except ValueError:
        raise InvalidRequest(log_detail=f"{name} is not an integer: {raw!r}"[:200]) from None
    if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        raise InvalidRequest(f"{name} out of range"[:200])
    return value


def _ts_param(query_params, name: str) -> datetime | None:
    raw = query_params.get(name)
    if raw is None or raw == "":
        return None
    try:
        value = parse_datetime(raw.strip().replace(" ", "+"))  # a `+` in a query string arrives as a space
    except ValueError:
        value = None
    if value is None or value.tzinfo is None:
        raise InvalidRequest(f"{name} must be an RFC 3339 timestamp"[:200])
    return value


@dataclass(frozen=True)
class EventQuery:
    """The window and row filters of GET .../events (the published spec's list_events), on top of EventFilter.

    - `after_sequence` / `before_sequence`: sequence > / < (exclusive), combined with `since_id` (the later wins);
    - `limit` (1..1000): the last N matching events (before `before_sequence`), still oldest first, or
      the newest N newest first with `order_desc`; the response then carries `X-Total-Count`;
    - `order_desc`: newest first;
    - `turn_id`, `trace_id`, `exec_id`: the event's `context` value; `tool_name`: `data.tool_name`;
    - `from_ts` / `to_ts`: the event's `ts` within [from_ts, to_ts] (inclusive at the milliseconds `ts` shows).
    """

    after_sequence: int | None = None
    before_sequence: int | None = None
    limit: int | None = None
    order_desc: bool = False
    turn_id: str | None = None
    trace_id: str | None = None
    exec_id: str | None = None
    tool_name: str | None = None
    from_ts: datetime | None = None
    to_ts: datetime | None = None

    @classmethod
    def from_query(cls, query_params) -> "EventQuery":
        """Parse and validate; a malformed value, a `turn_id` that is not a turn id or an unsupported
        filter (`around`, `window`, `tags`, `q`) -> 400."""
        for name in UNSUPPORTED_EVENT_PARAMS:
            if query_params.get(name) not in (None, ""):
                raise InvalidRequest(f"Unsupported event filter: {name}")
        turn_id = query_params.get("turn_id") or None
        if turn_id is not None and ids.parse_id("turn", turn_id) is None:
            raise InvalidRequest(log_detail=f"malformed turn_id {turn_id!r}"[:200])
        order = (query_params.get("order_desc") or "false").strip().lower()
        if order not in ("true", "false", "1", "0"):
            raise InvalidRequest(log_detail=f"order_desc is not a boolean: {order!r}"[:200])
        strings = {name: query_params.get(name) or None for name in ("trace_id", "exec_id", "tool_name")}
        if any(value is not None and len(value) > 200 for value in strings.values()):
            raise InvalidRequest("Input exceeds allowed limits")
        query = cls(
            after_sequence=_int_param(query_params, "after_sequence", minimum=0),
            before_sequence=_int_param(query_params, "before_sequence", minimum=0),
            limit=_int_param(query_params, "limit", minimum=1, maximum=EVENT_LIST_MAX_LIMIT),
            order_desc=order in ("true", "1"),
            turn_id=turn_id,
            from_ts=_ts_param(query_params, "from_ts"),
            to_ts=_ts_param(query_params, "to_ts"),
            **strings,
        )
        return query

    def row_filters(self) -> dict:
        """Django lookups for the row filters (not the window: after/before/limit/order)."""
        lookups: dict = {}
        if self.turn_id is not None:
            lookups["context__turn_id"] = self.turn_id
        if self.trace_id is not None:
            lookups["context__trace_id"] = self.trace_id
        if self.exec_id is not None:
            lookups["context__exec_id"] = self.exec_id
        if self.tool_name is not None:
            lookups["data__tool_name"] = self.tool_name
        if self.from_ts is not None:
            lookups["ts__gte"] = self.from_ts
        if self.to_ts is not None:
            # Timestamps are shown with milliseconds: an event's own `ts` as `to_ts` includes that event.
            lookups["ts__lt"] = self.to_ts + timedelta(milliseconds=1)
        if self.before_sequence is not None:
            lookups["sequence__lt"] = self.before_sequence
        return lookups


def event_to_dict(event) -> dict:
    """The public Event envelope (contract 3.5)."""
    body = {
        "id": ids.format_id("event", event.id),
        "type": event.type,
        "ts": format_ts(event.ts),
        "session_id": ids.format_id("session", event.session_id),
        "sequence": event.sequence,
        "context": event.context or {},
        "data": event.data or {},
    }
    if event.metadata is not None:
        body["metadata"] = event.metadata
    if event.tags is not None:
        body["tags"] = event.tags
    return body


def event_append(
    *,
    session_id,
    type: EventType | str,
    data: dict | None = None,
    context: dict | None = None,
    metadata: dict | None = None,
    tags: list[str] | None = None,
) -> Event:
    """Append one event with the session's next `sequence` and wake the session's streams on commit.

    The sequence comes from `Session.last_sequence`, bumped by an UPDATE that holds the session
    row lock until the surrounding transaction ends: concurrent writers queue on that lock, each
    sees the previous writer's value, and a rolled-back append gives its number back. So
    sequences are unique and gapless per session, on PostgreSQL and on SQLite alike, and they
    commit in sequence order (a reader that saw N never later finds a new event below N).

    `type` must be registered in apps.sessions.event_types (UnregisteredEventType otherwise): no event type
    comes into being by a typo. Lifecycle types (`session.*`, `turn.*`) are appended by
    apps.sessions.turns only.

    A message carried in `data["message"]` (input.message, output.message.completed, …) is
    stamped with this event's `session_id` and `sequence`: a message's sequence is its event's.
    """
    registered = event_type(type)  # before the transaction: a typo must not poison the caller's transaction
    return _event_insert(
        session_id=session_id, type=registered, data=data, context=context, metadata=metadata, tags=tags
    )


@transaction.atomic(savepoint=False)
def _event_insert(
    *,
    session_id,
    type: EventType,
    data: dict | None,
    context: dict | None,
    metadata: dict | None,
    tags: list[str] | None,
) -> Event:
    sequence = _next_sequence(session_id)
    if sequence is None:  # deleted by a concurrent request
        raise NotFound("Session not found")
    data = dict(data or {})
    if isinstance(data.get("message"), dict):
        data["message"] = {
            **data["message"],
            "session_id": ids.format_id("session", _uuid(session_id)),
            "sequence": sequence,
        }
    event = Event.objects.create(
        session_id=session_id,
        sequence=sequence,
        type=type.value,
        ts=timezone.now(),
        data=data,
        context=context or {},
        metadata=metadata,
        tags=tags,
    )
    if type in _listeners:
        _notify_listeners(event, type)
    wake_on_commit(session_id, notified=connection.vendor == "postgresql")
    return event


def _next_sequence(session_id) -> int | None:
    """Bump the session's `last_sequence` and read it back in ONE statement (UPDATE … RETURNING, PostgreSQL and
    SQLite >= 3.35); on PostgreSQL the same statement queues the streams' NOTIFY (delivered at commit).

    One to two round trips per event fewer than update + select (+ pg_notify): an event is the commonest write
    of a turn (issue 13). None when the session is gone.
    """
    table = connection.ops.quote_name(Session._meta.db_table)
    params = [Session._meta.pk.get_db_prep_value(_uuid(session_id), connection)]
    returning = "last_sequence"
    if connection.vendor == "postgresql":
        returning += ", pg_notify(%s, %s)"
        params += [CHANNEL, notify_key(session_id)]
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET last_sequence = last_sequence + 1 WHERE id = %s RETURNING {returning}", params
        )
        row = cursor.fetchone()
    return row[0] if row else None


def _uuid(value) -> uuid.UUID:
    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
