"""Harness admin: read-mostly; the built-in `generic` harnesses are shown read-only."""

from django.contrib import admin

from .models import Harness


@admin.register(Harness)
class HarnessAdmin(admin.ModelAdmin):
    list_display = ["name", "display_name", "organization", "is_built_in", "status", "created_at"]
    list_filter = ["status", "is_built_in"]
    search_fields = ["name", "display_name", "description"]
    raw_id_fields = ["organization", "parent", "default_model"]
    readonly_fields = ["id", "is_built_in", "created_at", "updated_at", "archived_at"]

    def has_change_permission(self, request, obj=None):
        if obj is not None and obj.is_built_in:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.is_built_in:
            return False
        return super().has_delete_permission(request, obj)
