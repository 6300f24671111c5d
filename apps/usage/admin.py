from django.contrib import admin

from .budgets import budget_update
from .models import Budget, BudgetLedgerEntry, UsageRecord


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


class BudgetLedgerInline(admin.TabularInline):
    model = BudgetLedgerEntry
    extra = 0
    can_delete = False
    fields = ("created_at", "amount", "meter_source", "ref_type", "ref_id", "session", "description")
    readonly_fields = fields
    ordering = ("-created_at",)

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Budget)
class BudgetAdmin(admin.ModelAdmin):
    """Budgets: limit, soft limit, period and status are editable; what was consumed is not."""

    list_display = (
        "id",
        "organization",
        "subject_type",
        "subject_id",
        "currency",
        "limit",
        "consumed",
        "status",
        "period",
        "deleted_at",
    )
    list_filter = ("subject_type", "currency", "status", "period")
    search_fields = ("subject_id", "organization__name")
    list_select_related = ("organization",)
    fields = (
        "organization",
        "subject_type",
        "subject_id",
        "currency",
        "limit",
        "soft_limit",
        "period",
        "status",
        "metadata",
        "consumed",
        "max_charge",
        "period_started_at",
        "warned",
        "deleted_at",
        "created_at",
        "updated_at",
    )
    readonly_fields = (
        "organization",
        "subject_type",
        "subject_id",
        "currency",
        "period",
        "consumed",
        "max_charge",
        "period_started_at",
        "warned",
        "deleted_at",
        "created_at",
        "updated_at",
    )
    inlines = [BudgetLedgerInline]

    def save_model(self, request, obj, form, change):
        # The same write as PATCH /v1/budgets/{id} (it re-arms the warning when there is room again).
        budget_update(budget=obj, data={f: form.cleaned_data[f] for f in form.changed_data})

    def has_add_permission(self, request):
        # Creating checks the subject against the organization: through the API (POST /v1/budgets).
        return False
