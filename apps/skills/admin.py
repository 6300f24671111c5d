from django.contrib import admin

from .models import Skill, SkillVersion


class SkillVersionInline(admin.TabularInline):
    model = SkillVersion
    extra = 0
    readonly_fields = ["version", "skill_md", "files", "created_at"]
    can_delete = False


@admin.register(Skill)
class SkillAdmin(admin.ModelAdmin):
    """Skills and their past versions (edit content through the API, which parses and versions it)."""

    list_display = ["name", "organization", "version", "status", "source_type", "updated_at"]
    list_filter = ["status", "source_type", "organization"]
    search_fields = ["name", "description"]
    readonly_fields = [
        "name",
        "description",
        "version",
        "skill_md",
        "instructions",
        "files",
        "source_type",
        "archived_at",
        "deleted_at",
        "created_at",
        "updated_at",
    ]
    inlines = [SkillVersionInline]

    def has_add_permission(self, request) -> bool:
        return False
