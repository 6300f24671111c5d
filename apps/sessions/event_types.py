"""The one registry of event types (contract 3.5): every type a session's log may hold, and its payload fields.

`EventType` is a `StrEnum`, so a member *is* its wire string (`EventType.TURN_STARTED == "turn.started"`,
stored and serialized as is) and a misspelt member is an AttributeError at import time instead of a
silently new event type. `event_append` (apps.sessions.services) refuses a type that is not registered
here (`UnregisteredEventType`), so an event type cannot come into being by a typo either.

Each member's `spec` says
- `fields`: the keys its `data` carries (the contract's payload; documentation for readers and the test
  that runs a turn and compares what is stored against it; `event_append` does not check payloads, which
  keeps it at one dict lookup per event);
- `public`: sent to clients and accepted by the `types` / `exclude` filters (`KNOWN_EVENT_TYPES`). A
  non-public type is stored but never leaves the server;
- `lifecycle`: a session or turn transition (`session.*`, `turn.*`). Only apps.sessions.turns appends
  these (tests/sessions/test_lifecycle_ownership.py checks the source tree).

Adding a type: a member here (in the order clients should see it listed) and its `EventSpec` below; other
apps (apps.files) use the member, never the string.
"""

from dataclasses import dataclass
from enum import StrEnum


class UnregisteredEventType(ValueError):
    """`event_append` was given a type that is not an `EventType` (a programming error, never a 4xx)."""


@dataclass(frozen=True)
class EventSpec:
    fields: tuple[str, ...]
    public: bool = True
    lifecycle: bool = False
    # Outside systems may subscribe to it (apps.webhooks): the moments an integrator waits for.
    subscribable: bool = False


class EventType(StrEnum):
    SESSION_STARTED = "session.started"
    INPUT_MESSAGE = "input.message"
    SESSION_ACTIVATED = "session.activated"
    TURN_STARTED = "turn.started"
    REASON_STARTED = "reason.started"
    OUTPUT_MESSAGE_STARTED = "output.message.started"
    OUTPUT_MESSAGE_DELTA = "output.message.delta"
    REASON_THINKING_STARTED = "reason.thinking.started"
    REASON_THINKING_DELTA = "reason.thinking.delta"
    REASON_THINKING_COMPLETED = "reason.thinking.completed"
    LLM_GENERATION = "llm.generation"
    OUTPUT_MESSAGE_COMPLETED = "output.message.completed"
    REASON_COMPLETED = "reason.completed"
    ACT_STARTED = "act.started"
    TOOL_STARTED = "tool.started"
    TOOL_COMPLETED = "tool.completed"
    ACT_COMPLETED = "act.completed"
    TURN_COMPLETED = "turn.completed"
    TURN_FAILED = "turn.failed"
    TURN_CANCELLED = "turn.cancelled"
    SESSION_IDLED = "session.idled"
    FILE_CREATED = "file.created"
    FILE_UPDATED = "file.updated"
    FILE_DELETED = "file.deleted"
    FILE_MOVED = "file.moved"
    FILE_COPIED = "file.copied"
    TURN_PAUSED = "turn.paused"
    TURN_RESUMED = "turn.resumed"
    BUDGET_WARNING = "budget.warning"
    BUDGET_EXCEEDED = "budget.exceeded"
    INTERNAL_CHECKPOINT = "internal.checkpoint"

    @property
    def spec(self) -> EventSpec:
        return EVENT_SPECS[self]

    @property
    def fields(self) -> tuple[str, ...]:
        return EVENT_SPECS[self].fields

    @property
    def lifecycle(self) -> bool:
        return EVENT_SPECS[self].lifecycle


_TURN = "turn_id"
_BUDGET = ("budget_id", "balance", "limit", "currency", "soft_limit", "message", "turn_id")
EVENT_SPECS: dict[EventType, EventSpec] = {
    EventType.SESSION_STARTED: EventSpec(("agent_id", "model_id"), lifecycle=True),
    EventType.INPUT_MESSAGE: EventSpec(("message",)),
    EventType.SESSION_ACTIVATED: EventSpec((_TURN, "input_message_id"), lifecycle=True),
    EventType.TURN_STARTED: EventSpec((_TURN, "input_message_id", "input_content"), lifecycle=True),
    EventType.REASON_STARTED: EventSpec(("agent_id", "metadata")),
    EventType.OUTPUT_MESSAGE_STARTED: EventSpec((_TURN, "model")),
    EventType.OUTPUT_MESSAGE_DELTA: EventSpec((_TURN, "delta", "accumulated")),
    EventType.REASON_THINKING_STARTED: EventSpec((_TURN, "model")),
    EventType.REASON_THINKING_DELTA: EventSpec((_TURN, "delta", "accumulated")),
    EventType.REASON_THINKING_COMPLETED: EventSpec((_TURN, "thinking")),
    EventType.LLM_GENERATION: EventSpec(("messages", "messages_after_sequence", "tools", "output", "metadata")),
    EventType.OUTPUT_MESSAGE_COMPLETED: EventSpec(("message", "metadata", "usage")),
    EventType.REASON_COMPLETED: EventSpec(
        ("success", "text_preview", "has_tool_calls", "tool_call_count", "duration_ms", "usage", "error")
    ),
    EventType.ACT_STARTED: EventSpec(("tool_calls",)),
    EventType.TOOL_STARTED: EventSpec(("tool_call",)),
    EventType.TOOL_COMPLETED: EventSpec(
        ("message", "tool_call_id", "tool_name", "success", "status", "result", "error", "duration_ms")
    ),
    EventType.ACT_COMPLETED: EventSpec(("completed", "success_count", "error_count", "duration_ms")),
    EventType.TURN_COMPLETED: EventSpec(
        (_TURN, "iterations", "duration_ms", "usage", "input_content"), lifecycle=True, subscribable=True
    ),
    EventType.TURN_FAILED: EventSpec((_TURN, "error", "error_code"), lifecycle=True, subscribable=True),
    EventType.TURN_CANCELLED: EventSpec((_TURN, "reason", "usage"), lifecycle=True, subscribable=True),
    EventType.SESSION_IDLED: EventSpec((_TURN, "iterations", "usage"), lifecycle=True, subscribable=True),
    # The session filesystem (apps.files).
    EventType.FILE_CREATED: EventSpec(("path", "is_directory", "size_bytes")),
    EventType.FILE_UPDATED: EventSpec(("path", "size_bytes")),
    EventType.FILE_DELETED: EventSpec(("path", "is_directory", "deleted_count")),
    EventType.FILE_MOVED: EventSpec(("path", "src_path", "dst_path", "is_directory")),
    EventType.FILE_COPIED: EventSpec(("path", "src_path", "dst_path", "is_directory", "copied_count")),
    # A turn that waits for the client (a client-side tool result, an approval, an answer) and its resumption
    # (apps.sessions.turns.pause / resume). `reason`: "tool_results" | "approval" | "input"; `request`: what the
    # client is asked for (the reason's own payload, e.g. the pending tool calls).
    EventType.TURN_PAUSED: EventSpec((_TURN, "reason", "request"), lifecycle=True, subscribable=True),
    EventType.TURN_RESUMED: EventSpec((_TURN, "reason"), lifecycle=True),
    # Budgets (apps.usage.budgets, docs/usage.md): a budget that applies to the session dropped below its
    # warning threshold, or refused a model call (a turn not started, or a running turn stopped).
    EventType.BUDGET_WARNING: EventSpec(_BUDGET),
    EventType.BUDGET_EXCEEDED: EventSpec(_BUDGET, subscribable=True),  # webhooks: a stopped agent is news (issue 16)
    # A marker kept in the log for the server's own bookkeeping and debugging; never sent to clients.
    EventType.INTERNAL_CHECKPOINT: EventSpec((), public=False),
}

# Events whose data.message is a message of the conversation (contract 3.3, "storage model").
MESSAGE_EVENT_TYPES: tuple[EventType, ...] = (
    EventType.INPUT_MESSAGE,
    EventType.OUTPUT_MESSAGE_COMPLETED,
    EventType.TOOL_COMPLETED,
)
PUBLIC_EVENT_TYPES: tuple[EventType, ...] = tuple(t for t in EventType if EVENT_SPECS[t].public)
LIFECYCLE_EVENT_TYPES: frozenset[EventType] = frozenset(t for t in EventType if EVENT_SPECS[t].lifecycle)
SUBSCRIBABLE_EVENT_TYPES: tuple[EventType, ...] = tuple(t for t in EventType if EVENT_SPECS[t].subscribable)


def event_type(value: str) -> EventType:
    """The registered member for `value`; anything else raises UnregisteredEventType."""
    try:
        return EventType(value)
    except ValueError:
        raise UnregisteredEventType(
            f"unregistered event type {value!r} (add it to apps.sessions.event_types)"
        ) from None
