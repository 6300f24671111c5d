from django.contrib import admin

from .models import Schedule, ScheduleRun


@admin.register(Schedule)
class ScheduleAdmin(admin.ModelAdmin):
    """Durable schedules (change them through the API, which validates timing and target)."""

    list_display = ["name", "organization", "cron_expression", "interval_seconds", "timezone", "enabled", "next_run_at"]
    list_filter = ["enabled", "target_name"]
    search_fields = ["name"]
    readonly_fields = ["organization", "anchor_at", "next_run_at", "last_triggered_at", "created_at", "updated_at"]


@admin.register(ScheduleRun)
class ScheduleRunAdmin(admin.ModelAdmin):
    """Run history (read-only)."""

    list_display = ["schedule", "scheduled_at", "trigger", "status", "duration_ms", "session"]
    list_filter = ["status", "trigger"]
    readonly_fields = [f.name for f in ScheduleRun._meta.fields]
