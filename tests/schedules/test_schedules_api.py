"""Durable schedules through the HTTP API, fired with an injected clock (issue 16 item 3, docs/automation.md)."""

import threading
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection

from apps.core.ids import format_id, parse_id
from apps.schedules.models import Schedule, ScheduleRun
from apps.schedules.services import schedules_run_due
from apps.sessions.models import Session
from tests.sessions.pg import in_thread

pytestmark = pytest.mark.django_db


@pytest.fixture
def agent_id(agent) -> str:
    return format_id("agent", agent.public_id)


def create(client, **body):
    return client.post("/v1/durable/schedules", body, format="json")


def agent_target(agent_id, message="Summarise the night's tickets.", **extra):
    return {"type": "workflow", "name": "agent.run", "input": {"agent_id": agent_id, "message": message, **extra}}


def make(client, agent_id, **body):
    body = {"name": "nightly", "cron_expression": "0 2 * * *", "target": agent_target(agent_id), **body}
    response = create(client, **body)
    assert response.status_code == 201, response.content
    return response.json()


def at(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def runs(client, schedule_id, **params) -> list[dict]:
    response = client.get(f"/v1/durable/schedules/{schedule_id}/executions", params)
    assert response.status_code == 200, response.content
    return response.json()["data"]


def user_texts(client, session_id) -> list[str]:
    messages = client.get(f"/v1/sessions/{session_id}/messages").json()["data"]
    return [m["content"][0]["text"] for m in messages if m["role"] == "user"]


def test_a_cron_schedule_fires_at_its_due_times_and_starts_a_session_each_time(api_client, agent_id):
    schedule = make(api_client, agent_id, cron_expression="0 2 * * *", timezone="UTC")
    assert schedule["id"].startswith("sched_") and schedule["enabled"] is True
    assert schedule["target"] == {
        "type": "workflow",
        "name": "agent.run",
        "input": {"agent_id": agent_id, "message": "Summarise the night's tickets.", "title": None},
    }
    first = at(schedule["next_run_at"])
    assert schedule["next_trigger_at"] == schedule["next_run_at"]
    assert (first.hour, first.minute, first.second) == (2, 0, 0)

    assert schedules_run_due(now=first - timedelta(seconds=1)) == 0  # not yet
    assert schedules_run_due(now=first) == 1
    assert schedules_run_due(now=first + timedelta(minutes=1)) == 0  # fired once for 02:00
    assert schedules_run_due(now=first + timedelta(days=1)) == 1  # the next night

    shown = api_client.get(f"/v1/durable/schedules/{schedule['id']}").json()
    assert at(shown["next_run_at"]) == first + timedelta(days=2)
    assert at(shown["last_triggered_at"]) == first + timedelta(days=1)
    history = runs(api_client, schedule["id"])
    assert [at(r["scheduled_at"]) for r in history] == [first + timedelta(days=1), first]
    assert {r["status"] for r in history} == {"completed"}
    sessions = [r["session_id"] for r in history]
    assert len(set(sessions)) == 2
    for session_id in sessions:
        assert user_texts(api_client, session_id) == ["Summarise the night's tickets."]
        assert api_client.get(f"/v1/sessions/{session_id}").json()["title"] == "nightly"


def test_cron_is_evaluated_in_the_schedule_time_zone(api_client, agent_id):
    schedule = make(api_client, agent_id, cron_expression="0 9 * * *", timezone="America/New_York")
    first = at(schedule["next_run_at"]).astimezone(UTC)
    assert first.minute == 0 and first.hour in (13, 14)  # 09:00 in New York is 13:00 or 14:00 UTC


def test_an_interval_schedule_posts_into_one_session(api_client, agent_id, session):
    session_id = format_id("session", session.pk)
    target = {"type": "workflow", "name": "session.run", "input": {"session_id": session_id, "message": "Check in."}}
    response = create(api_client, name="hourly", interval_seconds=3600, target=target)
    assert response.status_code == 201, response.content
    schedule = response.json()
    assert schedule["cron_expression"] is None and schedule["interval_seconds"] == 3600
    first = at(schedule["next_run_at"])
    assert schedules_run_due(now=first) == 1
    assert schedules_run_due(now=first + timedelta(hours=1)) == 1
    assert user_texts(api_client, session_id) == ["Check in.", "Check in."]
    assert {r["session_id"] for r in runs(api_client, schedule["id"])} == {session_id}


def test_missed_runs_after_downtime_run_once_not_in_a_burst(api_client, agent_id):
    schedule = make(api_client, agent_id, cron_expression="*/10 * * * *")
    first = at(schedule["next_run_at"])
    assert schedules_run_due(now=first + timedelta(minutes=55)) == 1  # six fire times passed: one run
    [run] = runs(api_client, schedule["id"])
    assert at(run["scheduled_at"]) == first + timedelta(minutes=50)  # the latest missed time
    shown = api_client.get(f"/v1/durable/schedules/{schedule['id']}").json()
    assert at(shown["next_run_at"]) == first + timedelta(minutes=60)


def test_catch_up_missed_replays_up_to_max_catch_up(api_client, agent_id):
    schedule = make(api_client, agent_id, cron_expression="*/10 * * * *", catch_up_missed=True, max_catch_up=3)
    first = at(schedule["next_run_at"])
    assert schedules_run_due(now=first + timedelta(minutes=55)) == 3
    times = sorted(at(r["scheduled_at"]) for r in runs(api_client, schedule["id"]))
    assert times == [first + timedelta(minutes=m) for m in (30, 40, 50)]


def test_pause_and_resume(api_client, agent_id):
    schedule = make(api_client, agent_id)
    first = at(schedule["next_run_at"])
    paused = api_client.post(f"/v1/durable/schedules/{schedule['id']}/pause")
    assert paused.status_code == 200
    assert paused.json()["enabled"] is False and paused.json()["next_run_at"] is None
    assert schedules_run_due(now=first + timedelta(days=3)) == 0
    resumed = api_client.post(f"/v1/durable/schedules/{schedule['id']}/resume").json()
    assert resumed["enabled"] is True and at(resumed["next_run_at"]) == first  # next 02:00 after now
    assert api_client.get("/v1/durable/schedules", {"enabled": "false"}).json()["total"] == 0
    assert api_client.get("/v1/durable/schedules", {"enabled": "true"}).json()["total"] == 1


def test_manual_trigger_and_the_execution_resource(api_client, agent_id):
    schedule = make(api_client, agent_id)
    response = api_client.post(f"/v1/durable/schedules/{schedule['id']}/trigger")
    assert response.status_code == 200
    execution_id = response.json()["execution_id"]
    execution = api_client.get(f"/v1/durable/executions/{execution_id}").json()
    assert execution["status"] == "completed" and execution["trigger"] == "manual"
    assert execution["schedule_id"] == schedule["id"] and execution["duration_ms"] >= 0
    assert user_texts(api_client, execution["session_id"]) == ["Summarise the night's tickets."]
    assert api_client.get(f"/v1/durable/schedules/{schedule['id']}").json()["next_run_at"] == schedule["next_run_at"]
    stats = api_client.get(f"/v1/durable/schedules/{schedule['id']}/stats").json()
    assert stats == {
        "total_executions": 1,
        "successful_executions": 1,
        "failed_executions": 0,
        "skipped_executions": 0,
        "avg_duration_ms": stats["avg_duration_ms"],
        "last_execution_status": "completed",
    }


def test_a_run_whose_target_is_gone_fails_and_is_recorded(api_client, session):
    session_id = format_id("session", session.pk)
    target = {"type": "workflow", "name": "session.run", "input": {"session_id": session_id, "message": "hi"}}
    schedule = create(api_client, name="gone", cron_expression="* * * * *", target=target).json()
    Session.objects.filter(pk=session.pk).delete()
    assert schedules_run_due(now=at(schedule["next_run_at"])) == 1
    [run] = runs(api_client, schedule["id"])
    assert run["status"] == "failed" and run["error"] == "Session not found" and run["session_id"] is None
    assert runs(api_client, schedule["id"], status="completed") == []


def test_max_concurrent_skips_a_run_while_the_session_is_busy(api_client, session):
    session_id = format_id("session", session.pk)
    target = {"type": "workflow", "name": "session.run", "input": {"session_id": session_id, "message": "hi"}}
    schedule = create(api_client, name="one", cron_expression="* * * * *", target=target, max_concurrent=1).json()
    first = at(schedule["next_run_at"])
    schedules_run_due(now=first)  # queues a turn (no worker runs it here)
    schedules_run_due(now=first + timedelta(minutes=1))
    statuses = [r["status"] for r in runs(api_client, schedule["id"])]
    assert statuses == ["skipped", "completed"]


def test_a_due_time_is_fired_once_even_by_a_worker_that_read_a_stale_schedule(api_client, agent_id):
    from apps.schedules.services import _fire

    schedule = make(api_client, agent_id)
    row = Schedule.objects.select_related("organization").get(pk=parse_id("sched", schedule["id"]))
    due = at(schedule["next_run_at"])
    assert _fire(row, due, trigger="schedule", now=due) is not None
    assert _fire(row, due, trigger="schedule", now=due) is None  # the unique (schedule, scheduled_at)
    assert ScheduleRun.objects.count() == 1 and Session.objects.count() == 1


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ({"cron_expression": "not cron"}, "Invalid cron expression"),
        ({"cron_expression": "0 0 * * * *"}, "Invalid cron expression"),
        ({"timezone": "Mars/Olympus"}, "Unknown timezone"),
        ({"interval_seconds": 3600}, "Give either cron_expression or interval_seconds"),
        ({"cron_expression": None, "interval_seconds": 5}, "interval_seconds must be at least 60"),
    ],
)
def test_bad_timing_is_400(api_client, agent_id, body, error):
    payload = {"name": "x", "cron_expression": "0 2 * * *", "target": agent_target(agent_id), **body}
    response = create(api_client, **payload)
    assert response.status_code == 400
    assert response.json() == {"error": error, "status": 400}
    assert Schedule.objects.count() == 0


def test_bad_targets(api_client, agent_id, make_agent, make_org):
    base = {"name": "x", "cron_expression": "0 2 * * *"}
    assert create(api_client, **base, target={"name": "nope", "input": {}}).status_code == 400
    assert create(api_client, **base, target=agent_target(agent_id, message="")).status_code == 400
    assert create(api_client, **base, target=agent_target("agent_bad")).status_code == 400
    foreign = format_id("agent", make_agent(org=make_org("Elsewhere")).public_id)
    assert create(api_client, **base, target=agent_target(foreign)).json() == {
        "error": "Agent not found",
        "status": 404,
    }


def test_names_are_unique_per_organization(api_client, agent_id):
    make(api_client, agent_id)
    response = create(api_client, name="nightly", cron_expression="0 3 * * *", target=agent_target(agent_id))
    assert response.status_code == 409
    assert response.json() == {"error": "Schedule name already exists", "status": 409}


def test_update_recomputes_the_next_run(api_client, agent_id):
    schedule = make(api_client, agent_id)
    changed = api_client.patch(
        f"/v1/durable/schedules/{schedule['id']}",
        {"cron_expression": "30 4 * * *", "description": "later"},
        format="json",
    ).json()
    assert changed["description"] == "later"
    assert (at(changed["next_run_at"]).hour, at(changed["next_run_at"]).minute) == (4, 30)
    to_interval = api_client.patch(
        f"/v1/durable/schedules/{schedule['id']}", {"cron_expression": None, "interval_seconds": 600}, format="json"
    ).json()
    assert to_interval["cron_expression"] is None and to_interval["interval_seconds"] == 600
    assert api_client.delete(f"/v1/durable/schedules/{schedule['id']}").status_code == 204
    assert api_client.get(f"/v1/durable/schedules/{schedule['id']}").status_code == 404


def test_other_organizations_see_nothing(api_client, other_org_client, agent_id):
    schedule = make(api_client, agent_id)
    execution_id = api_client.post(f"/v1/durable/schedules/{schedule['id']}/trigger").json()["execution_id"]
    assert other_org_client.get(f"/v1/durable/schedules/{schedule['id']}").json() == {
        "error": "Schedule not found",
        "status": 404,
    }
    assert other_org_client.get(f"/v1/durable/executions/{execution_id}").json() == {
        "error": "Execution not found",
        "status": 404,
    }
    assert other_org_client.get("/v1/durable/schedules").json()["total"] == 0
    assert other_org_client.post(f"/v1/durable/schedules/{schedule['id']}/trigger").status_code == 404


# --------------------------------------------------------------------------- two workers, real transactions
def _committed_schedule() -> tuple:
    from apps.accounts.models import Organization
    from apps.agents.models import Agent
    from apps.schedules.services import schedule_create

    organization = Organization.objects.create(name="schedule workers")
    agent = Agent.objects.create(organization=organization, name="w", system_prompt="x")
    schedule = schedule_create(
        organization=organization,
        name="every minute",
        cron_expression="* * * * *",
        target_name="agent.run",
        target_input={"agent_id": format_id("agent", agent.public_id), "message": "tick"},
    )
    return organization.pk, schedule.pk, schedule.next_run_at


@pytest.mark.postgres
def test_two_workers_fire_a_due_run_exactly_once():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (set DATABASE_URL)")

    organization_id, schedule_id, due = in_thread(_committed_schedule)
    try:
        barrier = threading.Barrier(2)
        fired: list[int] = []

        def worker() -> None:
            barrier.wait()
            fired.append(schedules_run_due(now=due))

        threads = [threading.Thread(target=in_thread, args=(worker,)) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert sorted(fired) == [0, 1]
        counts = in_thread(
            lambda: (
                ScheduleRun.objects.filter(schedule_id=schedule_id).count(),
                Session.objects.filter(organization_id=organization_id).count(),
            )
        )
        assert counts == (1, 1)
    finally:
        in_thread(_delete_committed, organization_id)


def _delete_committed(organization_id) -> None:
    from django_tasks_db.models import DBTaskResult

    from apps.accounts.models import Organization

    # The run queued a turn task (committed, on another connection): later tests count task rows.
    sessions = [str(pk) for pk in Session.objects.filter(organization_id=organization_id).values_list("pk", flat=True)]
    DBTaskResult.objects.filter(args_kwargs__args__0__in=sessions).delete()
    Organization.objects.filter(pk=organization_id).delete()
