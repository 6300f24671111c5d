"""How far the agent has read a session's input (`SessionProgress.handled_sequence`): the follow-up-turn cursor.

`SessionInputs` is the runtime's `apps.sessions.turns.InputCursor`: `claim` asks it for the first
unanswered user message and tells it when a cancelled turn settled everything up to the cancellation notice;
the runner moves it forward as its steps read the conversation.
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from apps.sessions.event_types import EventType
from apps.sessions.models import Event, Session

from .models import SessionProgress


def handled_sequence(session_id: Any) -> int:
    """The cursor; a session without one yet starts at 0, a fork at its fork point (its copied messages
    were the parent's, answered or not there: apps.sessions.forks.session_fork)."""
    handled = SessionProgress.objects.filter(session_id=session_id).values_list("handled_sequence", flat=True).first()
    if handled is None:
        handled = Session.objects.filter(pk=session_id).values_list("forked_from_sequence", flat=True).first()
    return handled or 0


def unhandled_inputs(session_id: Any) -> list[Event]:
    """User messages no turn has dealt with yet (cancellation notices never start a turn)."""
    events = Event.objects.filter(
        session_id=session_id, type=EventType.INPUT_MESSAGE, sequence__gt=handled_sequence(session_id)
    )
    return [e for e in events.order_by("sequence") if not (e.metadata or {}).get("cancellation")]


def mark_handled(session_id: Any, sequence: int) -> None:
    updated = SessionProgress.objects.filter(session_id=session_id, handled_sequence__lt=sequence).update(
        handled_sequence=sequence, updated_at=timezone.now()
    )
    if not updated and not SessionProgress.objects.filter(session_id=session_id).exists():
        SessionProgress.objects.create(session_id=session_id, handled_sequence=sequence)


class SessionInputs:
    """apps.sessions.turns.InputCursor over SessionProgress."""

    def first_unanswered(self, session_id: Any) -> dict | None:
        pending = unhandled_inputs(session_id)
        return ((pending[0].data or {}).get("message") or {}) if pending else None

    def answered_through(self, session_id: Any, sequence: int) -> None:
        mark_handled(session_id, sequence)


INPUTS = SessionInputs()
