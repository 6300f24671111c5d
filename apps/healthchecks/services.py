"""Trigger and read agent health checks.

A check is one case, `responds`: a new session of the agent (title "Health check", tag `health-check`, pinned
to the agent's current version like any session) gets the message below; the turn runs on the worker like any
other. The run's status follows the turn: queued → `pending`, running/paused → `running`, completed →
`completed`, failed/cancelled → `failed`. The case passes when the turn completed with a non-empty answer.
"""

from django.db import transaction

from apps.agents.models import Agent
from apps.core import ids
from apps.core.fields import format_ts
from apps.sessions.models import Session, Turn
from apps.sessions.services import message_create, session_create

from .models import HealthCheckRun

CASE_NAME = "responds"
USER_MESSAGE = "This is an automated health check. Reply with one short sentence saying you are ready."
RUBRIC = "The agent completes a turn and answers a simple message with non-empty text."
RECENT = 20
STATUS_BY_TURN = {
    Turn.STATUS_QUEUED: "pending",
    Turn.STATUS_RUNNING: "running",
    Turn.STATUS_PAUSED: "running",
    Turn.STATUS_COMPLETED: "completed",
    Turn.STATUS_FAILED: "failed",
    Turn.STATUS_CANCELLED: "failed",
}


@transaction.atomic
def health_check_trigger(*, agent: Agent) -> HealthCheckRun:
    session = session_create(organization=agent.organization, agent=agent, title="Health check", tags=["health-check"])
    message_create(session=session, content=[{"type": "text", "text": USER_MESSAGE}])
    version = session.agent_version
    resolved = version.resolved_config if version is not None else {}
    return HealthCheckRun.objects.create(
        organization_id=agent.organization_id,
        agent=agent,
        session=session,
        config_hash=version.config_hash if version is not None else "",
        model_id=ids.parse_id("model", resolved.get("default_model_id")),
    )


def health_checks_recent(*, agent: Agent) -> list[HealthCheckRun]:
    """The latest runs, newest first, with their sessions and turns loaded (three queries in all)."""
    return list(
        HealthCheckRun.objects.filter(agent=agent)
        .select_related("session")
        .prefetch_related("session__turns")
        .order_by("-created_at", "-id")[:RECENT]
    )


def _last_turn(session: Session | None) -> Turn | None:
    if session is None:
        return None
    turns = list(session.turns.all())
    return turns[-1] if turns else None


def run_to_dict(run: HealthCheckRun, agent: Agent) -> dict:
    """HealthCheckRun (spec)."""
    turn = _last_turn(run.session)
    status = STATUS_BY_TURN.get(turn.status, "pending") if turn is not None else "pending"
    if run.session is None:
        status = "failed"
    body: dict = {
        "id": ids.format_id("healthcheck", run.pk),
        "agent_id": ids.format_id("agent", agent.public_id),
        "config_hash": run.config_hash,
        "model_id": ids.format_id("model", run.model_id),
        "status": status,
        "created_at": format_ts(run.created_at),
        "completed_at": format_ts(turn.finished_at) if turn is not None and status in ("completed", "failed") else None,
        "error_message": "The check's session was deleted" if run.session is None else None,
        "results": None,
        "summary": None,
    }
    if turn is None or status not in ("completed", "failed"):
        return body
    answer = (run.session.output_preview or "").strip() if run.session else ""
    passed = status == "completed" and bool(answer)
    error = turn.error if status == "failed" else None
    body["error_message"] = error
    latency = (
        int((turn.finished_at - turn.started_at).total_seconds() * 1000) if turn.finished_at and turn.started_at else 0
    )
    case = {
        "name": CASE_NAME,
        "user_message": USER_MESSAGE,
        "rubric": RUBRIC,
        "passed": passed,
        "score": 1.0 if passed else 0.0,
        "deterministic_reason": (
            "completed with an answer" if passed else ("completed without text" if status == "completed" else "failed")
        ),
        "judge_reason": "",
        "error": error,
        "latency_ms": latency,
        "turns": 1,
        "input_tokens": turn.input_tokens,
        "output_tokens": turn.output_tokens,
        "session_id": ids.format_id("session", run.session_id),
    }
    body["results"] = [case]
    body["summary"] = {
        "total": 1,
        "passed": int(passed),
        "failed": int(not passed and error is None),
        "errored": int(error is not None),
        "pass_rate": 1.0 if passed else 0.0,
        "avg_score": case["score"],
        "avg_turns": 1.0,
        "total_input_tokens": turn.input_tokens,
        "total_output_tokens": turn.output_tokens,
    }
    return body
