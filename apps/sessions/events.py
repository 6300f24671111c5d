"""The event vocabulary (contract 3.5) and the filters of GET .../events and .../sse (contract 2.6).

- `KNOWN_EVENT_TYPES`: what clients may filter on and what they are ever sent. An event stored
  with another type is internal and never leaves the server. Other apps add their types here.
- `LEGACY_EVENT_TYPES`: the v0.2.0 spellings, accepted in `types` / `exclude` and mapped to the
  target names (we only ever emit the target names).
- `EventFilter.from_query(...)`: `since_id` / `types` / `exclude` parsed and validated once,
  for the JSON list and the stream alike.
- `event_to_dict(event)`: the one Event envelope, identical in the JSON list and in SSE `data:`.
"""

from collections.abc import Iterable
from dataclasses import dataclass

from apps.core import ids
from apps.core.exceptions import InvalidRequest
from apps.core.fields import format_ts

# Events whose data.message is a message of the conversation (contract 3.3, "storage model"): read back by
# the messages endpoint (selectors.message_list) and by the runtime's conversation rebuild.
MESSAGE_EVENT_TYPES: tuple[str, ...] = ("input.message", "output.message.completed", "tool.completed")

KNOWN_EVENT_TYPES: tuple[str, ...] = (
    "session.started",
    "input.message",
    "session.activated",
    "turn.started",
    "reason.started",
    "output.message.started",
    "output.message.delta",
    "reason.thinking.started",
    "reason.thinking.delta",
    "reason.thinking.completed",
    "llm.generation",
    "output.message.completed",
    "reason.completed",
    "act.started",
    "tool.started",
    "tool.completed",
    "act.completed",
    "turn.completed",
    "turn.failed",
    "turn.cancelled",
    "session.idled",
    "file.created",
    "file.updated",
    "file.deleted",
    "file.moved",
    "file.copied",  # session filesystem (apps/files)
)

LEGACY_EVENT_TYPES: dict[str, str] = {
    "message.user": "input.message",
    "input.received": "input.message",
    "message.agent": "output.message.completed",
    "tool.call_started": "tool.started",
    "tool.call_completed": "tool.completed",
}

MAX_FILTER_VALUES = 25


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
