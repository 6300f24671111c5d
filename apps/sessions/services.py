"""Writes for sessions and their event log."""

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from .models import Event, Session
from .notify import wake_on_commit


@transaction.atomic
def event_append(
    *,
    session_id,
    type: str,
    data: dict | None = None,
    context: dict | None = None,
    metadata: dict | None = None,
    tags: list[str] | None = None,
) -> Event:
    """Append one event with the session's next `sequence` and wake the session's streams on commit.

    The sequence comes from `Session.last_sequence`, bumped by an UPDATE that holds the session
    row lock until the surrounding transaction ends: concurrent writers queue on that lock, each
    sees the previous writer's value, and a rolled-back append gives its number back. So
    sequences are unique and gapless per session, on PostgreSQL and on SQLite alike.
    """
    Session.objects.filter(pk=session_id).update(last_sequence=F("last_sequence") + 1)
    sequence = Session.objects.filter(pk=session_id).values_list("last_sequence", flat=True).get()
    event = Event.objects.create(
        session_id=session_id,
        sequence=sequence,
        type=type,
        ts=timezone.now(),
        data=data or {},
        context=context or {},
        metadata=metadata,
        tags=tags,
    )
    wake_on_commit(session_id)
    return event
