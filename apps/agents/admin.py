"""Agent admin: an ops console that writes through the same services (and limits) as the API.

Agents are never hard-deleted (contract 2.3): the admin offers "archive" instead of delete.
"""

import io
import zipfile

from django import forms
from django.contrib import admin, messages
from django.http import HttpResponse

from apps.core import ids
from apps.core.exceptions import ApplicationError

from . import services
from .models import Agent, AgentVersion
from .views import markdown_attachment

EDITABLE = ["name", "description", "system_prompt", "default_model", "tags", "capabilities"]


class AgentAdminForm(forms.ModelForm):
    class Meta:
        model = Agent
        fields = ["organization", *EDITABLE, "status"]
        help_texts = {
            "capabilities": 'JSON list, e.g. ["current_time", {"ref": "web_fetch", "config": {}}]',
            "tags": 'JSON list of strings, e.g. ["demo"]',
        }

    def clean(self):
        super().clean()
        cleaned = self.cleaned_data  # what ModelForm.clean() returns; django-stubs type that return Optional
        organization = cleaned.get("organization") or getattr(self.instance, "organization", None)
        if organization is None or self.errors:
            return cleaned
        model = cleaned.get("default_model")
        data = {
            "name": cleaned.get("name"),
            "description": cleaned.get("description") or None,
            "system_prompt": cleaned.get("system_prompt"),
            "tags": cleaned.get("tags"),
            "capabilities": cleaned.get("capabilities"),
            "default_model_id": model.pk if model else None,
        }
        try:
            valid = services.agent_clean_input(organization=organization, data=data)
        except ApplicationError as exc:
            raise forms.ValidationError(exc.message) from None
        cleaned["capabilities"] = valid["capabilities"]
        return cleaned


@admin.register(Agent)
class AgentAdmin(admin.ModelAdmin):
    form = AgentAdminForm
    list_display = ["name", "api_id", "organization", "status", "input_tokens", "output_tokens", "created_at"]
    list_filter = ["status", "organization"]
    search_fields = ["name", "description", "system_prompt"]
    readonly_fields = ["api_id", *Agent.USAGE_KEYS, "created_at", "updated_at"]
    fieldsets = [
        (None, {"fields": ["organization", "api_id", "name", "description", "status"]}),
        ("Configuration", {"fields": ["system_prompt", "default_model", "tags", "capabilities"]}),
        ("Usage", {"fields": [*Agent.USAGE_KEYS, "created_at", "updated_at"]}),
    ]
    actions = ["export_markdown", "archive"]

    @admin.display(description="API id")
    def api_id(self, obj: Agent) -> str:
        return ids.format_id("agent", obj.public_id) if obj.public_id else "-"

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def save_model(self, request, obj, form, change):
        data = {field: form.cleaned_data.get(field) for field in EDITABLE if field != "default_model"}
        data["description"] = data["description"] or None
        model = form.cleaned_data.get("default_model")
        data["default_model_id"] = model.pk if model else None
        if change:
            data["status"] = form.cleaned_data.get("status")
            services.agent_update(agent=obj, data=data)
            return
        created = services.agent_create(organization=form.cleaned_data["organization"], public_id=obj.public_id, **data)
        if form.cleaned_data.get("status") == Agent.STATUS_ARCHIVED:
            services.agent_archive(agent=created)
        # The admin keeps using `obj` (log entry, redirect): point it at the row the service wrote.
        obj.pk, obj.created_at, obj.updated_at = created.pk, created.created_at, created.updated_at
        obj._state.adding = False

    @admin.action(description="Export selected agents as Markdown")
    def export_markdown(self, request, queryset):
        agents = list(queryset)
        if len(agents) == 1:
            return markdown_attachment(agents[0])
        buffer = io.BytesIO()
        used: set[str] = set()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for agent in agents:
                markdown, filename = services.agent_export(agent=agent)
                if filename in used:  # two agents with the same slug: keep both files
                    filename = f"{filename[:-3]}-{agent.public_id.hex[-8:]}.md"
                used.add(filename)
                archive.writestr(filename, markdown)
        response = HttpResponse(buffer.getvalue(), content_type="application/zip")
        response["Content-Disposition"] = 'attachment; filename="agents.zip"'
        return response

    @admin.action(description="Archive selected agents")
    def archive(self, request, queryset):
        archived = 0
        for agent in queryset.filter(status=Agent.STATUS_ACTIVE):
            services.agent_archive(agent=agent)
            archived += 1
        self.message_user(request, f"Archived {archived} agent(s).", messages.SUCCESS)


@admin.register(AgentVersion)
class AgentVersionAdmin(admin.ModelAdmin):
    """Versions are immutable snapshots: browse only."""

    list_display = ["agent", "version_number", "semver", "change_kind", "is_published", "created_at"]
    list_filter = ["change_kind", "is_published"]
    search_fields = ["agent__name"]
    raw_id_fields = ["agent", "parent_version", "source_version"]

    @admin.display(description="version")
    def semver(self, obj: AgentVersion) -> str:
        return obj.version

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
