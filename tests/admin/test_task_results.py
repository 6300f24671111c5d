"""The task results list: a run_turn task whose turn failed reads "failed" in its turn outcome."""

import pytest
from django_tasks_db.management.commands.db_worker import Worker
from django_tasks_db.models import DBTaskResult

from apps.core.ids import format_id
from apps.sessions.models import Turn
from apps.sessions.services import message_create

pytestmark = pytest.mark.django_db

TASKS = "/admin/django_tasks_database/dbtaskresult/"


def _post_and_work(session, text: str, capture) -> None:
    """A user message (its task enqueued on commit), then db_worker's own code claims and runs each queued
    task (its loop would close the test's database connection between tasks)."""
    with capture(execute=True):
        message_create(session=session, content=[{"type": "text", "text": text}])
    worker = Worker(
        queue_names=["default"],
        interval=0,
        batch=True,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id="test-worker",
        excluded_queue_names=[],
    )
    for row in DBTaskResult.objects.ready():
        row.claim(worker.worker_id)
        worker.run_task(row)


def test_a_failed_turn_is_failed_in_the_task_results(
    staff, make_session, failing_model, django_capture_on_commit_callbacks
):
    session = make_session(model=failing_model)
    _post_and_work(session, "fails upstream", django_capture_on_commit_callbacks)
    turn = Turn.objects.get(session=session)
    assert turn.status == Turn.STATUS_FAILED
    row = DBTaskResult.objects.get()
    assert row.status == "SUCCESSFUL"  # the task ran its turn to the end ...
    assert row.return_value == {  # ... and says how that turn ended
        "turns": [{"turn_id": format_id("turn", turn.pk), "status": "failed", "error_code": "llm_error"}]
    }
    html = staff.get(TASKS).content.decode()
    assert "Turn outcome" in html
    assert format_id("turn", turn.pk) in html and 'class="turn-status turn-failed"' in html
    detail = staff.get(f"{TASKS}{row.pk}/change/").content.decode()
    assert 'class="turn-status turn-failed"' in detail


def test_a_completed_turn_reads_completed(staff, make_session, django_capture_on_commit_callbacks):
    _post_and_work(make_session(), "hello", django_capture_on_commit_callbacks)
    html = staff.get(TASKS).content.decode()
    assert 'class="turn-status turn-completed"' in html and "turn-failed" not in html
