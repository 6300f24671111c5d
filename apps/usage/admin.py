from django.contrib import admin

from .models import UsageRecord


@admin.register(UsageRecord)
class UsageRecordAdmin(admin.ModelAdmin):
    """The usage ledger, read only: rows are written by the runtime, one per model call."""

    list_display = (
        "created_at",
        "organization",
        "model_name",
        "provider_type",
        "input_tokens",
        "output_tokens",
        "cache_read_tokens",
        "cost_usd",
    )
    list_filter = ("provider_type", "created_at")
    search_fields = ("model_name", "session__id", "organization__name")
    date_hierarchy = "created_at"
    list_select_related = ("organization",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
