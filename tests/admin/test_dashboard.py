"""The operations dashboard on the admin index: its numbers match the data, in a constant number of queries."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.runtime.dashboard import age_text, dashboard_get, percentile
from apps.runtime.models import WorkerProcess
from apps.sessions.models import Event, Turn
from apps.sessions.services import message_create
from tests.admin.conftest import say, start_turn

pytestmark = pytest.mark.django_db

INDEX = "/admin/"


def _worker(key: str, age_seconds: float) -> WorkerProcess:
    now = timezone.now()
    return WorkerProcess.objects.create(
        key=key,
        hostname="host-a",
        pid=7,
        started_at=now - timedelta(hours=1),
        heartbeat_at=now - timedelta(seconds=age_seconds),
    )


def _index_queries(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(INDEX)
    assert response.status_code == 200
    return len(queries)


def test_the_numbers_match_the_data(staff, make_agent, make_session, failing_model, django_capture_on_commit_callbacks):
    busy_agent = make_agent(name="Busy bot")
    quiet_agent = make_agent(name="Quiet bot")
    for n in range(3):
        say(make_session(for_agent=busy_agent), f"question {n}")
    say(make_session(for_agent=quiet_agent, model=failing_model), "this fails")
    start_turn(make_session(for_agent=quiet_agent), "still running")
    with django_capture_on_commit_callbacks(execute=True):  # its run_turn task is enqueued (READY)
        message_create(session=make_session(for_agent=busy_agent), content=[{"type": "text", "text": "waiting"}])
    _worker("alive", 2)
    _worker("dead", 3 * 3600)

    board = dashboard_get()
    assert (board.running, board.queued, board.paused) == (1, 1, 0)
    assert board.oldest_queued_age is not None and board.oldest_queued_age < timedelta(minutes=1)
    assert (board.last_hour.finished, board.last_hour.failed, board.last_hour.error_rate) == (4, 1, 25.0)
    assert (board.last_day.finished, board.last_day.failed) == (4, 1)
    assert board.queue_depth == 1
    assert board.workers_alive == 1 and [w["key"] for w in board.workers] == ["alive", "dead"]
    assert [a["name"] for a in board.top_agents] == ["Busy bot", "Quiet bot"]
    busy = board.top_agents[0]
    assert busy["turns"] == 4 and busy["failed"] == 0  # three completed, one queued
    tokens = sum(t.input_tokens + t.output_tokens for t in Turn.objects.filter(session__agent=busy_agent))
    assert busy["tokens"] == tokens > 0
    assert board.top_agents[1]["failed"] == 1
    models = {m["model"]: m for m in board.latency}
    assert models["gpt-fake"]["calls"] == 1 and models["llmsim-default"]["calls"] == 3
    durations = sorted(
        e.data["metadata"]["duration_ms"]
        for e in Event.objects.filter(type="llm.generation", data__metadata__model="llmsim-default")
    )
    assert models["llmsim-default"]["p50_ms"] == durations[1]

    html = staff.get(INDEX).content.decode()
    for shown in ('id="dash-running"><span class="value">1<', 'id="dash-failed-hour"><span class="value">1<'):
        assert shown in html, shown
    assert "error rate 25.0% of 4" in html and "Busy bot" in html and "llmsim-default" in html
    assert 'id="dash-workers"><span class="value">1<' in html


def test_old_turns_leave_the_windows(make_session, failing_model):
    say(make_session(model=failing_model), "fails")
    board = dashboard_get(now=timezone.now() + timedelta(hours=2))
    assert board.last_hour.failed == 0 and board.last_day.failed == 1
    assert board.last_hour.error_rate is None
    later = dashboard_get(now=timezone.now() + timedelta(days=2))
    assert later.last_day.failed == 0 and later.top_agents == [] and later.latency == []


def test_the_index_costs_a_constant_number_of_queries(staff, make_agent, make_session, django_assert_max_num_queries):
    say(make_session(), "one")
    _worker("w0", 1)
    small = _index_queries(staff)
    for n in range(6):
        agent = make_agent(name=f"Agent {n}")
        for m in range(2):
            say(make_session(for_agent=agent), f"message {n}.{m}")
        _worker(f"w{n + 1}", n * 100)
    start_turn(make_session(), "running")
    with django_assert_max_num_queries(small):
        staff.get(INDEX)
    with django_assert_max_num_queries(5):
        dashboard_get()


def test_percentiles_and_ages():
    assert percentile([100.0], 0.95) == 100.0
    assert percentile([float(v) for v in range(1, 101)], 0.5) == pytest.approx(50.5)
    assert percentile([float(v) for v in range(1, 101)], 0.95) == pytest.approx(95.05)
    assert [age_text(timedelta(seconds=s)) for s in (5, 600, 3 * 3600 + 120, 3 * 86400)] == [
        "5 s",
        "10 min",
        "3 h 2 min",
        "3 d 0 h",
    ]
    assert age_text(None) == ""
