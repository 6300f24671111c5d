from django.contrib import admin

from .models import HealthCheckRun


@admin.register(HealthCheckRun)
class HealthCheckRunAdmin(admin.ModelAdmin):
    list_display = ["id", "agent", "config_hash", "created_at"]
    raw_id_fields = ["organization", "agent", "session"]
    readonly_fields = ["config_hash", "model_id", "created_at", "updated_at"]
