"""Writes that branch or re-run a session: fork (POST .../fork) and resume (POST .../resume).

Split from services.py by sub-domain (conventions rule 1); both go through apps.sessions.turns for every
status change.
"""

import uuid

from django.db import transaction

from apps.core.exceptions import Conflict, InvalidRequest

from . import turns
from .event_types import EventType
from .models import Event, Session, Turn
from .services import LAYER_FIELDS, _model_in_org, agent_get_in_org, retry_on_conflict

FORK_BUSY_MESSAGE = "Session is mid-turn and cannot be forked"
_UNSET = object()


@retry_on_conflict
@transaction.atomic
def session_fork(
    *,
    session: Session,
    created_by=None,
    sequence: int | None = None,
    title=_UNSET,
    tags=_UNSET,
    agent_id: uuid.UUID | None = None,
    model_id=_UNSET,
    locale=_UNSET,
    system_prompt=_UNSET,
) -> Session:
    """A new session that continues from `session`'s log up to `sequence` (default: its latest event).

    The fork gets a copy of every event with a sequence up to the fork point (new ids, same sequences,
    messages re-stamped with the fork's id), the parent's agent, model, capabilities, tools, initial files,
    system prompt, locale and hints unless overridden, `forked_from_session_id` / `forked_from_sequence`,
    and the title "{parent title} (fork)" unless one is given; its owner (`created_by`) is the caller. Its
    usage starts at zero (it made no model call), its files and secrets are not copied. It is `idle` when
    the copy holds a finished turn (turns.fork). Everything copied counts as handled: its next message starts a turn
    that answers that message with the copied conversation as history.

    Parent with an open turn -> 409; `sequence` outside 1..the parent's latest -> 400; an override agent or
    model of another organization -> 404.
    """
    parent = turns.lock_session(session.pk)
    if Turn.objects.filter(session_id=parent.pk, status__in=Turn.OPEN_STATUSES).exists():
        raise Conflict(FORK_BUSY_MESSAGE)
    point = parent.last_sequence if sequence is None else sequence
    if not 1 <= point <= parent.last_sequence:
        raise InvalidRequest("Sequence out of range")
    organization = parent.organization
    fork = Session(
        organization=organization,
        agent=agent_get_in_org(organization=organization, agent=agent_id) if agent_id else parent.agent,
        model=parent.model if model_id is _UNSET else _model_in_org(organization, model_id),
        title=f"{parent.title or 'Untitled'} (fork)" if title is _UNSET or title is None else title,
        tags=list(parent.tags or []) if tags is _UNSET or tags is None else list(tags),
        locale=parent.locale if locale is _UNSET else locale,
        created_by=created_by,
        forked_from_session=parent,
        forked_from_sequence=point,
        last_sequence=point,
        preview=parent.preview,
        **{key: getattr(parent, key) for key in LAYER_FIELDS if key != "system_prompt"},
        system_prompt=parent.system_prompt if system_prompt is _UNSET else system_prompt,
    )
    fork.full_clean()
    fork.save(force_insert=True)
    turns.fork(session=fork, parent_id=parent.pk, through=point)
    fork.output_preview = _last_agent_text(fork.pk)
    Session.objects.filter(pk=fork.pk).update(output_preview=fork.output_preview)
    return fork


def _last_agent_text(session_id: uuid.UUID) -> str | None:
    from .services import message_text, preview_text

    data = (
        Event.objects.filter(session_id=session_id, type=EventType.OUTPUT_MESSAGE_COMPLETED)
        .order_by("-sequence")
        .values_list("data", flat=True)
        .first()
    )
    return preview_text(message_text(((data or {}).get("message") or {}).get("content"))) or None if data else None


@retry_on_conflict
@transaction.atomic
def session_resume(*, session: Session) -> Turn:
    """Run the session's failed or cancelled last turn again (apps.sessions.turns.rerun); 422 otherwise."""
    return turns.rerun(session_id=session.pk)
