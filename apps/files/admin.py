"""Session files in the admin: a read-only browser with a content preview.

Files are changed through the API or the agent's tools only (quotas, events); the admin may
delete, and does it through the same service so SSE clients still see `file.deleted`.
`SessionFileInline` lists a session's files on its admin page: added here to the session admin's inlines
(apps/sessions/admin.py), because apps.files sits above apps.sessions (sessions never import files).
"""

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html

from apps.core import ids
from apps.core.exceptions import NotFound
from apps.sessions.admin import SessionAdmin

from . import services
from .models import SessionFile

PREVIEW_CHARS = 2000


def content_preview(obj: SessionFile) -> str:
    """Text content cut to PREVIEW_CHARS; binary (or non-UTF-8) content is shown as its size only."""
    if obj.is_directory:
        return "(directory)"
    data = services.file_bytes(obj)
    binary = f"(binary, {obj.size_bytes} bytes)"
    if services.content_is_binary(data):
        return binary
    head = data[: PREVIEW_CHARS * 4]  # a UTF-8 character is at most 4 bytes
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if len(data) == len(head) or exc.start < len(head) - 3:
            return binary
        text = head[: exc.start].decode("utf-8")  # the cut split the last character
    if len(text) > PREVIEW_CHARS or len(data) > len(head):
        return text[:PREVIEW_CHARS] + f"\n… (truncated, {obj.size_bytes} bytes in total)"
    return text


class SessionFileInline(admin.TabularInline):
    model = SessionFile
    fields = ("path", "is_directory", "is_readonly", "size_bytes", "updated_at")  # a tuple: readonly_fields shares it
    readonly_fields = fields
    show_change_link = True
    extra = 0
    can_delete = False
    ordering = ["path"]

    def has_add_permission(self, request, obj=None) -> bool:
        return False


SessionAdmin.inlines = [*SessionAdmin.inlines, SessionFileInline]


@admin.register(SessionFile)
class SessionFileAdmin(admin.ModelAdmin):
    list_display = ["path", "session_link", "is_directory", "is_readonly", "size_bytes", "updated_at"]
    list_filter = ["is_directory", "is_readonly"]
    search_fields = ["path"]
    list_select_related = ["session"]
    fields = (  # a tuple: readonly_fields (str-only) shares it
        "api_id",
        "session_link",
        "path",
        "name",
        "is_directory",
        "is_readonly",
        "size_bytes",
        "preview",
        "created_at",
        "updated_at",
    )
    readonly_fields = fields
    ordering = ["session", "path"]

    @admin.display(description="ID")
    def api_id(self, obj: SessionFile) -> str:
        return ids.format_id("file", obj.pk)

    @admin.display(description="Session", ordering="session")
    def session_link(self, obj: SessionFile) -> str:
        # Filters this list down to the session's files.
        url = reverse("admin:session_files_sessionfile_changelist") + f"?session__id__exact={obj.session_id}"
        return format_html('<a href="{}">{}</a>', url, ids.format_id("session", obj.session_id))

    @admin.display(description="Content preview")
    def preview(self, obj: SessionFile) -> str:
        return format_html('<pre style="white-space: pre-wrap; max-width: 80em">{}</pre>', content_preview(obj))

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def delete_model(self, request, obj: SessionFile) -> None:
        services.file_delete(session=obj.session, path=obj.path, recursive=True)

    def delete_queryset(self, request, queryset) -> None:
        # Shortest paths first; entries inside an already deleted directory are gone by then.
        for row in sorted(queryset.select_related("session").defer("content"), key=lambda r: r.path.count("/")):
            try:
                services.file_delete(session=row.session, path=row.path, recursive=True)
            except NotFound:
                continue
