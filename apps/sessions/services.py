"""Writes for sessions, messages and their event log (contract 2.4, 2.5, 3.5, 6.1, 6.4).

Every function here is a transaction. Wake-ups and the turn task go out on commit only
(conventions rule 2): a client or worker never sees a write that rolled back, and a message
answered with 201 is committed before anyone is told about it.
"""

import functools
import json
import logging
import random
import time
import uuid
from collections.abc import Callable

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.db.models import Q
from django.utils import timezone

from apps.accounts.models import ApiKey
from apps.agents.models import Agent
from apps.agents.versioning import version_for_new_session
from apps.core import ids
from apps.core.exceptions import Conflict, InputTooLarge, InvalidRequest, NotFound
from apps.core.fields import format_ts
from apps.core.scoping import get_in_org
from apps.core.services import model_update
from apps.harnesses.services import generic_harness, harness_ref_from_body
from apps.llm.selectors import model_get_in_org
from apps.mcp import services as mcp_services

from . import turns
from .event_types import EventType
from .events import event_append
from .models import Event, Session, SessionPin, Turn
from .notify import wake_on_commit
from .turns import SESSION_NOT_FOUND, lock_session

__all__ = ["event_append", "lock_session", "SESSION_NOT_FOUND"]  # their homes: events.py, turns.py

# Contract 3.2: `preview` is "truncated text of the first user message"; the length is our choice.
PREVIEW_CHARS = 200
CANCEL_MESSAGE_TEXT = "User requested to cancel the work."

logger = logging.getLogger("everruns.sessions")

# PostgreSQL SQLSTATEs a transaction can simply be run again for: deadlock_detected, serialization_failure.
RETRYABLE_SQLSTATES = frozenset({"40P01", "40001"})
CONFLICT_ATTEMPTS = 4


def _retryable(exc: DatabaseError) -> bool:
    cause = exc.__cause__
    return getattr(cause, "sqlstate", None) in RETRYABLE_SQLSTATES


def retry_on_conflict[Fn: Callable](func: Fn) -> Fn:
    """Run a service's transaction again (up to CONFLICT_ATTEMPTS times, with jitter) when PostgreSQL
    aborted it as a deadlock victim or for a serialization failure, so a client never gets a 500 for
    a lost lock race. Rolled back attempts leave nothing behind (on-commit callbacks are dropped with
    them). Inside an outer transaction the caller owns the retry: the function runs once.
    Put it above `@transaction.atomic`.
    """

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        if connection.in_atomic_block:
            return func(*args, **kwargs)
        for attempt in range(1, CONFLICT_ATTEMPTS + 1):
            try:
                return func(*args, **kwargs)
            except DatabaseError as exc:
                if attempt == CONFLICT_ATTEMPTS or not _retryable(exc):
                    raise
                sqlstate = getattr(exc.__cause__, "sqlstate", None)
                logger.warning("%s: %s (attempt %d), retrying", func.__name__, sqlstate, attempt)
                time.sleep(random.uniform(0.005, 0.02 * 2**attempt))
        raise AssertionError("unreachable")

    return wrapper  # type: ignore[return-value]


# --------------------------------------------------------------------------- sessions
def agent_get_in_org(*, organization, agent: Agent | uuid.UUID) -> Agent:
    """The organization's agent (an Agent row is checked, a public id looked up); else 404."""
    if isinstance(agent, Agent):
        if agent.organization_id != organization.pk:
            raise NotFound("Agent not found")
        return agent
    return get_in_org(Agent, organization=organization, not_found="Agent not found", public_id=agent)


AGENT_NAME_AMBIGUOUS = "Agent name is ambiguous: use agent_id"


def agent_by_name(*, organization, name: str) -> Agent:
    """The organization's one active agent called `name` (the SDK's `agent_name`): none -> 404, several -> 409
    (agent names are not unique)."""
    agents = list(Agent.objects.filter(organization_id=organization.pk, name=name, status=Agent.STATUS_ACTIVE)[:2])
    if not agents:
        raise NotFound("Agent not found")
    if len(agents) > 1:
        raise Conflict(AGENT_NAME_AMBIGUOUS)
    return agents[0]


def _model_in_org(organization, model):
    """An LlmModel row, a model pk or None -> the organization's model or None; another org's -> 404."""
    if model is None or getattr(model, "organization_id", None) == organization.pk:
        return model
    return model_get_in_org(organization=organization, model_id=getattr(model, "pk", model))


# The session's own configuration layers (docs/sessions.md): lists, a prompt and hints a client sets.
LAYER_FIELDS = ("capabilities", "tools", "initial_files", "system_prompt", "hints")
UPDATABLE_FIELDS = ("title", "tags", "model", "locale", *LAYER_FIELDS)
LIST_FIELDS = ("tags", "capabilities", "tools", "initial_files")


def session_config_check(values: dict) -> None:
    """The session's own configuration is stored on its row and read at every turn: bounded by
    SESSION_CONFIG_MAX_BYTES as JSON (400 "Input exceeds allowed limits" over it)."""
    size = len(json.dumps([values.get(key) for key in LAYER_FIELDS], ensure_ascii=False, default=str).encode())
    if size > settings.SESSION_CONFIG_MAX_BYTES:
        raise InputTooLarge(log_detail=f"session configuration of {size} bytes")


@transaction.atomic
def session_create(
    *,
    organization,
    agent: Agent | uuid.UUID | None = None,
    title: str | None = None,
    tags: list[str] | None = None,
    model=None,
    capabilities: list[dict] | None = None,
    tools: list[dict] | None = None,
    initial_files: list[dict] | None = None,
    system_prompt: str | None = None,
    locale: str | None = None,
    hints: dict | None = None,
    harness_id: uuid.UUID | None = None,
    harness_name: str | None = None,
    mcp_servers: dict | None = None,
    created_by=None,
    workspace_id: str | None = None,
    api_key=None,
) -> Session:
    """Create a session (status `started`) and emit its one `session.started` event (contract 2.4, rec: at creation).

    `agent` is an Agent, its public id or None (a session on its harness alone: the named harness, else the
    organization's `generic`), `model` an LlmModel, a model pk or None; both must belong to
    `organization` (404 "Agent not found" / "Model not found" otherwise). `created_by`: the User who
    asked (the API's `owner`; the admin's owner column), or None.
    `workspace_id`: this server has no workspaces, so any id is 404 "Workspace not found" (null is fine).
    `mcp_servers` is the API's `mcpServers` (apps.mcp.services.attachments_clean: 422 for an unknown server).
    """
    if workspace_id is not None:
        raise NotFound("Workspace not found")
    agent = agent_get_in_org(organization=organization, agent=agent) if agent is not None else None
    model = _model_in_org(organization, model)
    attachments = mcp_services.attachments_clean(organization_id=organization.pk, raw=mcp_servers)
    session = Session(
        organization=organization,
        agent=agent,
        title=title,
        tags=list(tags or []),
        model=model,
        capabilities=list(capabilities or []),
        tools=list(tools or []),
        initial_files=list(initial_files or []),
        system_prompt=system_prompt,
        locale=locale,
        hints=hints,
        created_by=created_by,
        harness_id=agent.harness_id if agent is not None else None,
        agent_version=version_for_new_session(agent) if agent is not None else None,
        # The request's credential (`request.auth`): kept when it is an API key (JWT claims are a dict).
        api_key=api_key if isinstance(api_key, ApiKey) else None,
    )
    session_config_check(vars(session))
    # Another harness of the organization (404 "Harness not found" otherwise; both at once 400).
    harness = harness_ref_from_body(organization=organization, harness_id=harness_id, harness_name=harness_name)
    if harness is not None:
        session.harness = harness
    elif session.harness_id is None:
        session.harness = generic_harness(organization)
    session.full_clean()
    session.save()
    if attachments:
        mcp_services.attachments_set(
            owner_kind="session", owner_id=session.pk, organization_id=organization.pk, entries=attachments
        )
    data = {"agent_id": ids.format_id("agent", agent.public_id) if agent is not None else None}
    if model is not None:
        data["model_id"] = ids.format_id("model", model.pk)
    turns.start(session=session, data=data)
    return session


@retry_on_conflict
@transaction.atomic
def session_update(*, session: Session, data: dict) -> Session:
    """Change the keys present of `title`, `tags`, `model`, `locale` and the layers (`capabilities`, `tools`,
    `initial_files`, `system_prompt`, `hints`); lists are replaced, a null list means [].

    `data` may carry `model_id` (a model pk or None: checked against the session's organization) and
    `agent_id` (a public id): it must be the session's own agent, which cannot change (400).
    """
    data = dict(data)
    current = session.agent.public_id if session.agent is not None else None
    if "agent_id" in data and data.pop("agent_id") != current:
        raise InvalidRequest(log_detail="agent_id of a session cannot be changed")
    if "model_id" in data:
        data["model"] = _model_in_org(session.organization, data.pop("model_id"))
    for key in LIST_FIELDS:
        if key in data and data[key] is None:
            data[key] = []
    session_config_check({key: data.get(key, getattr(session, key)) for key in LAYER_FIELDS})
    updated, _ = model_update(instance=session, fields=list(UPDATABLE_FIELDS), data=data)
    return updated  # type: ignore[return-value]  # model_update returns the instance it was given


def session_pin(*, session: Session, user) -> None:
    """The user pins the session (idempotent: pinning twice keeps one pin)."""
    SessionPin.objects.get_or_create(session=session, user=user)


def session_unpin(*, session: Session, user) -> None:
    """The user unpins the session (idempotent: unpinning an unpinned session is fine)."""
    SessionPin.objects.filter(session=session, user=user).delete()


@retry_on_conflict
@transaction.atomic
def session_delete(*, session: Session) -> None:
    """Hard delete with everything under it (turns, events; files cascade in their app).

    A running turn's worker finds its turn gone at its next checkpoint and stops; streams of the
    session are woken so they notice the deletion and end. The session row is locked before the
    turns are touched (the one lock order, see lock_session).
    """
    session_id = session.pk
    session = lock_session(session_id)
    Turn.objects.filter(session_id=session_id, status__in=Turn.OPEN_STATUSES).update(cancel_requested=True)
    session.delete()
    wake_on_commit(session_id)


@retry_on_conflict
@transaction.atomic
def session_cancel(*, session: Session) -> Session:
    """Cancel the session's open turn (contract 6.4, API side).

    Cancellable: the session has an open turn, queued (a message was posted and no worker has
    claimed it yet) or running. Sets `Turn.cancel_requested`, appends `turn.cancelled` and an
    `input.message` "User requested to cancel the work." whose event metadata is
    `{"cancellation": true}` (no turn is started for it). The worker then emits "Work was cancelled
    by user.", sets `idle` and emits `session.idled` (for a queued turn: when it claims it, without
    ever running the model).
    No open turn and not `active` -> 422 "Cannot cancel session: session is not active" (seed).

    Choices where the contract is silent:
    - a second cancel before the worker reacted answers 200 again without duplicating events;
    - an `active` session without an open turn (its worker died before creating one) has nobody to
      settle it, so we settle it here: status `idle` plus `session.idled` (contract: guarantee idle).
    """
    return turns.cancel(
        session_id=session.pk,
        notice=lambda: message_create(
            session=session,
            content=[{"type": "text", "text": CANCEL_MESSAGE_TEXT}],
            event_metadata={"cancellation": True},
            start_turn=False,
        ),
    )


RETRY_NOT_FAILED = "Only a failed turn can be retried"
RETRY_NOT_LATEST = "Only the session's latest turn can be retried"
RETRY_BUSY = "The session already has a turn in progress"
RETRY_NO_INPUT = "The failed turn has no input message to run again"


@retry_on_conflict
@transaction.atomic
def turn_retry(*, turn: Turn) -> Event:
    """Run a failed turn again: its input message is posted once more, which queues a new turn.

    The failed turn stays as it is (failed, with its error and events: the history is append-only); the
    new `input.message` repeats the failed turn's message (content and controls) with event metadata
    `{"retry_of": "turn_…"}`, and `message_create` queues the new turn through apps.sessions.turns.queue,
    so a retry is exactly what a user re-sending the message would do. Only the session's latest turn,
    only when it failed and the session has no open turn: 409 otherwise (our choice: retrying an older
    turn would answer a question out of order).
    """
    session = lock_session(turn.session_id)
    turn = Turn.objects.get(pk=turn.pk)
    if turn.status != Turn.STATUS_FAILED:
        raise Conflict(RETRY_NOT_FAILED)
    if Turn.objects.filter(session_id=session.pk, status__in=Turn.OPEN_STATUSES).exists():
        raise Conflict(RETRY_BUSY)
    if Turn.objects.filter(session_id=session.pk, created_at__gt=turn.created_at).exists():
        raise Conflict(RETRY_NOT_LATEST)
    message_key = ids.format_id("message", turn.input_message_id) if turn.input_message_id else None
    original = (
        Event.objects.filter(session_id=session.pk, type=EventType.INPUT_MESSAGE, data__message__id=message_key)
        .values_list("data", flat=True)
        .first()
        if message_key
        else None
    )
    message = (original or {}).get("message") or {}
    if not message.get("content"):
        raise Conflict(RETRY_NO_INPUT)
    return message_create(
        session=session,
        content=message["content"],
        controls=message.get("controls"),
        metadata=message.get("metadata"),
        tags=message.get("tags"),
        event_metadata={"retry_of": ids.format_id("turn", turn.pk)},
    )


# --------------------------------------------------------------------------- messages
def message_text(content: list[dict] | None) -> str:
    """The plain text of a message's parts (text parts joined by newlines)."""
    return "\n".join(
        part["text"]
        for part in content or []
        if isinstance(part, dict) and part.get("type") == "text" and part.get("text")
    )


def preview_text(text: str) -> str:
    """`preview` / `output_preview`: the first PREVIEW_CHARS characters."""
    return text[:PREVIEW_CHARS]


def message_limits_check(*, content: list[dict], metadata: dict | None = None, tags: list | None = None) -> None:
    """Per-message bounds (docs/streaming.md, "Limits"): every message is stored in the event log and
    replayed to the model at every step, so one message must not be able to grow them without bound.
    Over a limit -> 400 "Input exceeds allowed limits"."""
    if len(content) > settings.SESSION_MESSAGE_MAX_PARTS:
        raise InputTooLarge(log_detail=f"{len(content)} content parts")
    text_bytes = sum(len(part.get("text", "").encode()) for part in content if part.get("type") == "text")
    if text_bytes > settings.SESSION_MESSAGE_MAX_TEXT_BYTES:
        raise InputTooLarge(log_detail=f"{text_bytes} bytes of text")
    image_chars = sum(len(part.get("base64") or "") for part in content if part.get("type") == "image")
    image_chars += sum(len(part.get("url") or "") for part in content if part.get("type") == "image")
    if image_chars > settings.SESSION_MESSAGE_MAX_IMAGE_BYTES:
        raise InputTooLarge(log_detail=f"{image_chars} characters of image data")
    extra = json.dumps([metadata, tags], ensure_ascii=False, default=str)
    if len(extra.encode()) > settings.SESSION_MESSAGE_MAX_METADATA_BYTES:
        raise InputTooLarge(log_detail="message metadata/tags too large")


def message_create(
    *,
    session: Session,
    content: list[dict],
    controls: dict | None = None,
    metadata: dict | None = None,
    tags: list[str] | None = None,
    event_metadata: dict | None = None,
    start_turn: bool = True,
) -> Event:
    """Store a user message as its `input.message` event (contract 6.1) and return that event.

    When it may start a turn (`start_turn`), the turn is admitted first (apps.sessions.turns.admit: e.g.
    422 when a budget is exhausted), outside the message's transaction. See `_message_store`.
    """
    if start_turn:
        turns.admit(session=session)
    return _message_store(
        session=session,
        content=content,
        controls=controls,
        metadata=metadata,
        tags=tags,
        event_metadata=event_metadata,
        start_turn=start_turn,
    )


@retry_on_conflict
@transaction.atomic
def _message_store(
    *,
    session: Session,
    content: list[dict],
    controls: dict | None = None,
    metadata: dict | None = None,
    tags: list[str] | None = None,
    event_metadata: dict | None = None,
    start_turn: bool = True,
) -> Event:
    """Store a user message as its `input.message` event (contract 6.1) and return that event.

    One transaction: the event (with the message in `data.message`), the session's `preview` when it
    has none yet and, when `start_turn` and the session has no open turn, a `queued` Turn for this
    message (so the message can be cancelled before a worker claims it); on commit the streams wake
    and, when `start_turn`, the turn task is enqueued (`apps.sessions.tasks.enqueue_turn`). A message
    posted while a turn is open is read by that turn (or its follow-up). `content` must already be
    validated (user part types only); `controls.model_id` must be a model of the session's
    organization (404 "Model not found").
    """
    message_limits_check(content=content, metadata=metadata, tags=tags)
    if controls and controls.get("model_id"):
        _model_in_org(session.organization, ids.parse_id("model", controls["model_id"]))
    message: dict = {
        "id": ids.new_id("message"),
        "role": "user",
        "content": content,
        "created_at": format_ts(timezone.now()),
    }
    if controls:
        message["controls"] = controls
    if metadata is not None:
        message["metadata"] = metadata
    if tags is not None:
        message["tags"] = tags
    event = event_append(
        session_id=session.pk, type=EventType.INPUT_MESSAGE, data={"message": message}, metadata=event_metadata
    )
    text = message_text(content)
    if text:
        Session.objects.filter(Q(preview__isnull=True) | Q(preview=""), pk=session.pk).update(
            preview=preview_text(text), updated_at=timezone.now()
        )
    if start_turn:
        turns.queue(session_id=session.pk, input_message_id=ids.parse_id("message", message["id"]))
    return event
