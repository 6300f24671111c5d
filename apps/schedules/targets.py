"""What a schedule's run does to sessions: check a target, post its message, tell whether its session is busy.

Kept apart from services.py (the schedule and run bookkeeping): this module talks to apps.sessions only through
its services and reads, and never writes a session's or a turn's status (apps/sessions/turns.py owns those).
"""

from apps.agents.models import Agent
from apps.core import ids
from apps.core.exceptions import InvalidRequest
from apps.core.scoping import get_in_org
from apps.sessions.models import Session, Turn
from apps.sessions.services import message_create, session_create

from .models import Schedule


def target_check(*, organization, name: str, target_input: dict) -> dict:
    """Validate a target against the organization (404 for a foreign or missing session/agent); the stored input."""
    message = target_input.get("message")
    if not isinstance(message, str) or not message.strip() or len(message) > 100_000:
        raise InvalidRequest("target.input.message must be a non-empty string")
    if name == Schedule.TARGET_SESSION:
        session_id = ids.parse_id_or_400("session", target_input.get("session_id"))
        get_in_org(Session, organization=organization, not_found="Session not found", pk=session_id)
        return {"session_id": ids.format_id("session", session_id), "message": message}
    if name == Schedule.TARGET_AGENT:
        agent_id = ids.parse_id_or_400("agent", target_input.get("agent_id"))
        get_in_org(Agent, organization=organization, not_found="Agent not found", public_id=agent_id)
        title = target_input.get("title")
        if title is not None and (not isinstance(title, str) or len(title) > 500):
            raise InvalidRequest("target.input.title must be a string")
        return {"agent_id": ids.format_id("agent", agent_id), "message": message, "title": title}
    raise InvalidRequest("Unknown target name")


def perform(schedule: Schedule) -> Session:
    """Post the schedule's message: into its session, or into a new session of its agent."""
    data = schedule.target_input
    organization = schedule.organization
    if schedule.target_name == Schedule.TARGET_SESSION:
        session = get_in_org(
            Session,
            organization=organization,
            not_found="Session not found",
            pk=ids.parse_id("session", data["session_id"]),
        )
    else:
        agent = get_in_org(
            Agent,
            organization=organization,
            not_found="Agent not found",
            public_id=ids.parse_id("agent", data["agent_id"]),
        )
        session = session_create(organization=organization, agent=agent, title=data.get("title") or schedule.name)
    message_create(
        session=session,
        content=[{"type": "text", "text": data["message"]}],
        metadata={"schedule_id": ids.format_id("sched", schedule.pk)},
    )
    return session


def busy(schedule: Schedule) -> bool:
    """max_concurrent for a session target: the session still has a turn open from an earlier run."""
    if schedule.max_concurrent is None or schedule.target_name != Schedule.TARGET_SESSION:
        return False
    session_id = ids.parse_id("session", schedule.target_input["session_id"])
    if session_id is None:
        return False
    open_turns = Turn.objects.filter(
        session_id=session_id, status__in=[Turn.STATUS_QUEUED, Turn.STATUS_RUNNING, Turn.STATUS_PAUSED]
    ).count()
    return open_turns >= schedule.max_concurrent
