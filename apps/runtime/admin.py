"""Django admin: the db_worker processes this deployment has seen and whether each is alive (read-only), and
the task results of django_tasks_db with how each turn a `run_turn` task ran ended.

A `run_turn` task succeeds when it ran its turn to the end, whatever that end was; its return value says how
each turn ended (apps.runtime.runner.turn_run_pending). The task list shows that as "Turn outcome", so a turn
that failed reads "failed" there too and not only "Successful" (the task's own status).
"""

from datetime import timedelta

from django.contrib import admin
from django.utils import timezone
from django.utils.html import format_html_join
from django_tasks_db.admin import DBTaskResultAdmin
from django_tasks_db.models import DBTaskResult

from apps.sessions.admin_timeline import status_badge

from .models import WorkerProcess
from .workers import RUN_TURN_TASK_PATH, liveness_window_seconds


@admin.register(WorkerProcess)
class WorkerProcessAdmin(admin.ModelAdmin):
    list_display = ("key", "hostname", "pid", "task_worker_id", "started_at", "heartbeat_at", "alive")
    search_fields = ("key", "hostname", "task_worker_id")
    ordering = ("-heartbeat_at",)

    @admin.display(boolean=True, description="alive")
    def alive(self, row: WorkerProcess) -> bool:
        """Heartbeat within the liveness window: past it, recovery settles the process's task rows as failed."""
        return row.heartbeat_at >= timezone.now() - timedelta(seconds=liveness_window_seconds())

    # Rows are written by the workers themselves; an operator only looks.
    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


def turn_outcomes(row: DBTaskResult) -> list[dict]:
    """The turns a run_turn task reported (`[]` for other tasks, unfinished runs and older rows)."""
    value = row.return_value
    if row.task_path != RUN_TURN_TASK_PATH or not isinstance(value, dict):
        return []
    return [t for t in value.get("turns") or [] if isinstance(t, dict)]


admin.site.unregister(DBTaskResult)


@admin.register(DBTaskResult)
class TaskResultAdmin(DBTaskResultAdmin):
    list_display = (*DBTaskResultAdmin.list_display[:3], "turn_outcome", *DBTaskResultAdmin.list_display[3:])  # type: ignore[assignment]

    @admin.display(description="Turn outcome")
    def turn_outcome(self, row: DBTaskResult) -> str:
        outcomes = turn_outcomes(row)
        if not outcomes:
            return "-"
        return format_html_join(
            ", ",
            "{} {}",
            ((t.get("turn_id") or "", status_badge(t.get("status")) if t.get("status") else "") for t in outcomes),
        )

    def get_readonly_fields(self, request, obj=None):
        return [*super().get_readonly_fields(request, obj), "turn_outcome"]
