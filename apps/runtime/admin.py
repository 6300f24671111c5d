"""Django admin: the db_worker processes this deployment has seen and whether each is alive (read-only)."""

from datetime import timedelta

from django.contrib import admin
from django.utils import timezone

from .models import WorkerProcess
from .workers import liveness_window_seconds


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
