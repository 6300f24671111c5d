"""Turns through the Redis task backend (django-tasks-redis) on a real Redis: same guarantees as the
database queue, because they live in the database (one open turn per session, order, crash recovery).

Needs Redis on TASKS_REDIS_TEST_URL (default redis://127.0.0.1:6379/4; .ci/run starts one): skipped without.
Workers run in-process (`run_redis_tasks` without --continuous drains the queue and returns), so they see
the test's transaction."""

import os
import uuid
from datetime import timedelta

import pytest
import redis
from django.core.management import call_command
from django.tasks import task_backends
from django.utils import timezone

from apps.runtime.services import turns_recover_stale
from apps.sessions.models import Turn

REDIS_URL = os.environ.get("TASKS_REDIS_TEST_URL", "redis://127.0.0.1:6379/4")


def _redis_up() -> bool:
    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


pytestmark = [pytest.mark.django_db, pytest.mark.skipif(not _redis_up(), reason=f"needs Redis at {REDIS_URL}")]


@pytest.fixture(autouse=True)
def redis_backend(settings):
    prefix = f"everruns-test-{uuid.uuid4().hex[:8]}"
    settings.TASKS = {
        "default": {
            "BACKEND": "django_tasks_redis.backends.RedisTaskBackend",
            "QUEUES": ["default"],
            "OPTIONS": {"REDIS_URL": REDIS_URL, "REDIS_KEY_PREFIX": prefix, "REDIS_BLOCK_TIMEOUT": 100},
        }
    }
    assert type(task_backends["default"]).__name__ == "RedisTaskBackend"
    yield
    client = redis.Redis.from_url(REDIS_URL)
    keys = list(client.scan_iter(f"{prefix}*"))
    if keys:
        client.delete(*keys)


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """`with committed():` runs the block's on-commit callbacks (the enqueues) when it ends, as a commit would."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


def _drain() -> None:
    """One worker pass: run every task waiting in Redis."""
    # The command object itself: installing django_tasks_redis for a test would leave its admin registered
    # after the test (admin pages of later tests would fail on the missing app).
    from django_tasks_redis.management.commands.run_redis_tasks import Command

    call_command(Command(), "--queue", "default", "--interval", "0")


def test_turns_of_several_sessions_run_through_redis(make_chat, committed):
    first, second = make_chat(), make_chat()
    with committed():
        first.post("Hello from one")
        second.post("Hello from two")
    assert Turn.objects.filter(status="queued").count() == 2  # waiting in Redis, not run inline
    _drain()
    assert first.refresh()["status"] == second.refresh()["status"] == "idle"
    assert first.last_agent_text().endswith("Hello from one")
    assert second.last_agent_text().endswith("Hello from two")
    assert Turn.objects.filter(status="completed").count() == 2


def test_one_turn_per_session_and_messages_in_order(make_chat, committed):
    chat = make_chat()
    with committed():
        chat.post("first")
        chat.post("second")  # the session has an open turn: no second turn, the turn reads it at its next step
    assert Turn.objects.filter(session_id=chat.pk).count() == 1
    _drain()  # two tasks in Redis for one session: one turn ran, the other task found nothing to do
    assert list(Turn.objects.filter(session_id=chat.pk).values_list("status", flat=True)) == ["completed"]
    with committed():
        chat.post("third")
    _drain()
    texts = ["".join(p.get("text", "") for p in m["content"]) for m in chat.messages()]
    assert texts == ["first", "second", "You said: second", "third", "You said: third"], texts
    assert not Turn.objects.filter(session_id=chat.pk, status__in=Turn.OPEN_STATUSES).exists()


def test_a_turn_of_a_dead_worker_is_resumed_through_redis(make_chat, settings, committed):
    settings.RUNTIME_TURN_LEASE_SECS = 30
    chat = make_chat()
    chat.post("survive a crash")  # not committed: its task was taken by the worker that then died
    # That worker took the turn and died: running, its heartbeat long gone, nothing left in Redis.
    Turn.objects.filter(session_id=chat.pk).update(
        status="running",
        worker_id="dead:1:x",
        started_at=timezone.now(),
        heartbeat_at=timezone.now() - timedelta(minutes=5),
    )
    _drain()
    assert Turn.objects.get(session_id=chat.pk).status == "running"
    with committed():
        assert turns_recover_stale() == 1  # the sweep requeues it: a new task goes to Redis
    _drain()
    assert Turn.objects.get(session_id=chat.pk).status == "completed"
    assert chat.last_agent_text().endswith("survive a crash")


def test_a_lost_enqueue_is_recovered_after_the_longer_grace(make_chat, settings, committed):
    settings.RUNTIME_TURN_LEASE_SECS = 30
    chat = make_chat()
    chat.post("lost on the way")  # committed, but the web process died before enqueueing: nothing in Redis
    turn = Turn.objects.get(session_id=chat.pk)
    for age in (60, 121):  # Redis cannot be asked whether a task waits: within 4 leases, left alone
        then = timezone.now() - timedelta(seconds=age)
        Turn.objects.filter(pk=turn.pk).update(created_at=then, updated_at=then)
        with committed():
            recovered = turns_recover_stale()
        assert recovered == (1 if age > 120 else 0)
    _drain()
    assert Turn.objects.get(pk=turn.pk).status == "completed"
