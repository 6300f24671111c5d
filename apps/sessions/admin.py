"""Sessions and turns in the admin: an operator's console over conversations, timelines and turns.

Read-only views (messages and events are an append-only log: nothing here edits them). What an operator
may do goes through the services the API uses, and each writes an admin log entry:
- cancel a turn: `services.session_cancel` (the lifecycle of apps.sessions.turns: the worker stops it);
- retry a failed turn: `services.turn_retry` (the same message posted again, a new queued turn);
- export a session's transcript (JSON).
Operating needs the `agent_sessions.change_turn` permission (superusers have it); viewing, the view
permissions. Deleting a session goes through `services.session_delete`. docs/operations.md shows it.
"""

import json
import uuid
from collections.abc import Callable

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.http import url_has_allowed_host_and_scheme

from apps.core import ids
from apps.core.exceptions import ApplicationError

from . import services
from .admin_timeline import (
    EVENTS_PER_PAGE,
    TOKENS,
    can_cancel,
    can_retry,
    conversation,
    failure_reason,
    latest_turn_status,
    status_badge,
    timeline,
    timeline_row,
    transcript,
    turn_duration,
    turn_rows,
)
from .event_types import EventType
from .models import Session, Turn

OPERATE_PERMISSION = "agent_sessions.change_turn"


def can_operate(request: HttpRequest) -> bool:
    return bool(request.user.is_active and request.user.is_staff and request.user.has_perm(OPERATE_PERMISSION))


def id_search(queryset: QuerySet, prefix: str, term: str) -> QuerySet | None:
    """Rows whose id is `term` (`<prefix>_<hex>` or a bare UUID); None when the term is no id."""
    term = term.strip()
    value = ids.parse_id(prefix, term) if term.startswith(f"{prefix}_") else None
    if value is None:
        try:
            value = uuid.UUID(term)
        except ValueError:
            return None
    return queryset.filter(pk=value)


def _act(request: HttpRequest, admin_: admin.ModelAdmin, turn: Turn, service: Callable[[], object], done: str) -> bool:
    """Run one operator action on `turn` (a service call), log it, tell the operator; True when it went through.

    `done` is the log entry ("Cancelled", "Retried"); a refusal (ApplicationError) is shown, not logged.
    """
    key = ids.format_id("turn", turn.pk)
    try:
        service()
    except ApplicationError as exc:
        admin_.message_user(request, f"{key}: {exc.message}", messages.ERROR)
        return False
    admin_.log_change(request, turn, f"{done} {key}")
    admin_.message_user(request, f"{done} {key}.", messages.SUCCESS)
    return True


def _cancel(request: HttpRequest, admin_: admin.ModelAdmin, turn: Turn) -> bool:
    """Cancel `turn` through session_cancel (its worker then stops it)."""
    if turn.status not in Turn.OPEN_STATUSES or turn.cancel_requested:
        key = ids.format_id("turn", turn.pk)
        admin_.message_user(request, f"{key} is {turn.status}: nothing to cancel.", messages.WARNING)
        return False
    return _act(request, admin_, turn, lambda: services.session_cancel(session=turn.session), "Cancel requested for")


def _retry(request: HttpRequest, admin_: admin.ModelAdmin, turn: Turn) -> bool:
    """Retry the failed `turn` through turn_retry (its message queued again as a new turn)."""
    return _act(request, admin_, turn, lambda: services.turn_retry(turn=turn), "Retried")


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows written by the services only; an operator looks (and operates through the actions)."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_operate_permission(self, request) -> bool:
        return can_operate(request)


@admin.register(Session)
class SessionAdmin(ReadOnlyAdmin):
    list_display = [
        "api_id",
        "title_or_preview",
        "agent",
        "status",
        "last_turn",
        "owner",
        "organization",
        "last_activity",
        "tokens",
        "created_at",
    ]
    list_filter = ["status", ("created_at", admin.DateFieldListFilter), "agent", "organization"]
    search_fields = ["title", "preview"]
    search_help_text = "Session id (session_…), title or preview text"
    list_select_related = ["agent", "organization", "created_by"]
    list_per_page = 50
    ordering = ["-created_at", "-id"]
    fields = (
        "api_id",
        "title",
        "agent",
        "organization",
        "owner",
        "status",
        "model",
        "tags",
        "capabilities",
        "preview",
        "output_preview",
        "input_tokens",
        "output_tokens",
        "cache_read_tokens",
        "cache_creation_tokens",
        "created_at",
        "started_at",
        "updated_at",
    )
    readonly_fields = fields
    actions = ["export_transcripts"]
    change_form_template = "admin/agent_sessions/session/change_form.html"
    # apps.files adds its files inline (apps/files/admin.py): files sit above sessions, which never import them.
    inlines = []

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(last_turn_status=latest_turn_status())

    def get_search_results(self, request, queryset, search_term):
        by_id = id_search(queryset, "session", search_term)
        if by_id is not None:
            return by_id, False
        return super().get_search_results(request, queryset, search_term)

    @admin.display(description="ID")
    def api_id(self, obj: Session) -> str:
        return ids.format_id("session", obj.pk)

    @admin.display(description="Title / preview", ordering="title")
    def title_or_preview(self, obj: Session) -> str:
        return obj.title or (obj.preview or "")[:80] or "-"

    @admin.display(description="Last turn")
    def last_turn(self, obj: Session) -> str:
        return status_badge(getattr(obj, "last_turn_status", None))

    @admin.display(description="Owner", ordering="created_by__email")
    def owner(self, obj: Session) -> str:
        return obj.created_by.email if obj.created_by else "-"

    @admin.display(description="Last activity", ordering="updated_at")
    def last_activity(self, obj: Session):
        return obj.updated_at

    @admin.display(description="Tokens (in + out)", ordering=TOKENS)
    def tokens(self, obj: Session) -> int:
        return obj.input_tokens + obj.output_tokens

    # -- the detail page: conversation, turns, timeline ------------------------------------------------
    def change_view(self, request, object_id, form_url="", extra_context=None):
        session = self.get_object(request, unquote(object_id))
        if session is None:
            return super().change_view(request, object_id, form_url, extra_context)
        event_type = request.GET.get("event_type") or ""
        if event_type not in EventType.__members__.values():
            event_type = ""
        turn_key = request.GET.get("turn") or ""
        if ids.parse_id("turn", turn_key) is None:
            turn_key = ""
        events = timeline(session, event_type=event_type or None, turn_key=turn_key or None)
        page = Paginator(events, EVENTS_PER_PAGE).get_page(request.GET.get("events_page"))
        messages_shown, messages_total = conversation(session)
        context = {
            "conversation": messages_shown,
            "messages_total": messages_total,
            "turn_rows": turn_rows(session),
            "events_page": page,
            "events": [timeline_row(event) for event in page.object_list],
            "event_types": [t.value for t in EventType],
            "event_type": event_type,
            "turn_key": turn_key,
            "can_operate": can_operate(request),
            **(extra_context or {}),
        }
        return super().change_view(request, object_id, form_url, context)

    def get_urls(self):
        view: Callable = self.admin_site.admin_view
        return [
            path("<path:object_id>/transcript/", view(self.transcript_view), name="agent_sessions_session_transcript"),
            *super().get_urls(),
        ]

    def transcript_view(self, request, object_id):
        """GET: the session's transcript as a JSON download."""
        sessions = self.get_queryset(request).select_related("agent", "organization")
        session = get_object_or_404(sessions, pk=unquote(object_id))
        if not self.has_view_permission(request, session):
            raise PermissionDenied
        self.log_change(request, session, "Exported transcript")
        return _transcript_response(transcript(session), f"{ids.format_id('session', session.pk)}.transcript.json")

    @admin.action(description="Export transcripts of the selected sessions (JSON list)")
    def export_transcripts(self, request, queryset):
        sessions = list(queryset.select_related("agent", "organization"))
        for session in sessions:  # each export is in the session's admin history: who read what
            self.log_change(request, session, "Exported transcript")
        return _transcript_response([transcript(s) for s in sessions], "transcripts.json")

    def delete_model(self, request, obj: Session) -> None:
        services.session_delete(session=obj)

    def delete_queryset(self, request, queryset) -> None:
        for session in queryset:
            services.session_delete(session=session)


def _transcript_response(body: object, filename: str) -> HttpResponse:
    response = HttpResponse(json.dumps(body, ensure_ascii=False, indent=2), content_type="application/json")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@admin.register(Turn)
class TurnAdmin(ReadOnlyAdmin):
    list_display = [
        "api_id",
        "session_link",
        "agent",
        "organization",
        "status_label",
        "model",
        "started_at",
        "duration",
        "tokens",
        "failure",
        "created_at",
    ]
    list_filter = ["status", ("created_at", admin.DateFieldListFilter), "error_code", "session__organization"]
    search_fields = ["error", "error_code", "model"]
    search_help_text = "Turn id (turn_…), error text or code, model"
    list_select_related = ["session__agent", "session__organization"]
    list_per_page = 50
    ordering = ["-created_at", "-id"]
    fields = (
        "api_id",
        "session_link",
        "trace",
        "status_label",
        "cancel_requested",
        "model",
        "iterations",
        "failure",
        "error_code",
        "input_tokens",
        "output_tokens",
        "cache_read_tokens",
        "cache_creation_tokens",
        "created_at",
        "started_at",
        "finished_at",
        "duration",
        "heartbeat_at",
        "worker_id",
    )
    readonly_fields = fields
    actions = ["cancel_turns", "retry_turns"]
    change_form_template = "admin/agent_sessions/turn/change_form.html"

    def change_view(self, request, object_id, form_url="", extra_context=None):
        turn = self.get_object(request, unquote(object_id))
        context = {"can_operate": can_operate(request), **(extra_context or {})}
        if turn is not None:
            latest = Turn.objects.filter(session_id=turn.session_id).order_by("-created_at", "-id").first()
            context["can_cancel"] = can_cancel(turn)
            context["can_retry"] = can_retry(turn, latest_pk=latest.pk if latest else None)
        return super().change_view(request, object_id, form_url, context)

    def get_search_results(self, request, queryset, search_term):
        by_id = id_search(queryset, "turn", search_term)
        if by_id is not None:
            return by_id, False
        return super().get_search_results(request, queryset, search_term)

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # a turn is part of its session's history: delete the session instead

    @admin.display(description="ID")
    def api_id(self, obj: Turn) -> str:
        return ids.format_id("turn", obj.pk)

    @admin.display(description="Session", ordering="session")
    def session_link(self, obj: Turn) -> str:
        url = reverse("admin:agent_sessions_session_change", args=[obj.session_id])
        return format_html('<a href="{}">{}</a>', url, ids.format_id("session", obj.session_id))

    @admin.display(description="Trace")
    def trace(self, obj: Turn) -> str:
        url = reverse("admin:agent_sessions_session_change", args=[obj.session_id])
        return format_html('<a href="{}?turn={}#timeline">events of this turn</a>', url, ids.format_id("turn", obj.pk))

    @admin.display(description="Agent", ordering="session__agent__name")
    def agent(self, obj: Turn) -> str:
        agent = obj.session.agent
        return agent.name if agent is not None else "-"  # a session on its harness alone

    @admin.display(description="Organization", ordering="session__organization__name")
    def organization(self, obj: Turn) -> str:
        return obj.session.organization.name

    @admin.display(description="Status", ordering="status")
    def status_label(self, obj: Turn) -> str:
        return status_badge(obj.status)

    @admin.display(description="Duration")
    def duration(self, obj: Turn) -> str:
        return turn_duration(obj) or "-"

    @admin.display(description="Tokens (in + out)", ordering=TOKENS)
    def tokens(self, obj: Turn) -> int:
        return obj.input_tokens + obj.output_tokens

    @admin.display(description="Failure reason")
    def failure(self, obj: Turn) -> str:
        return failure_reason(obj) or "-"

    @admin.action(description="Cancel the selected turns", permissions=["operate"])
    def cancel_turns(self, request, queryset) -> None:
        for turn in queryset.select_related("session"):
            _cancel(request, self, turn)

    @admin.action(description="Retry the selected failed turns", permissions=["operate"])
    def retry_turns(self, request, queryset) -> None:
        for turn in queryset:
            _retry(request, self, turn)

    def get_urls(self):
        view: Callable = self.admin_site.admin_view
        return [
            path("<path:object_id>/cancel/", view(self.cancel_view), name="agent_sessions_turn_cancel"),
            path("<path:object_id>/retry/", view(self.retry_view), name="agent_sessions_turn_retry"),
            *super().get_urls(),
        ]

    def _operate(self, request, object_id, act: Callable[[HttpRequest, admin.ModelAdmin, Turn], bool]):
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not can_operate(request):
            raise PermissionDenied
        turn = get_object_or_404(self.get_queryset(request).select_related("session"), pk=unquote(object_id))
        act(request, self, turn)
        back = request.POST.get("next") or ""
        if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
            back = reverse("admin:agent_sessions_turn_change", args=[turn.pk])
        return HttpResponseRedirect(back)

    def cancel_view(self, request, object_id):
        """POST: cancel this turn (session_cancel)."""
        return self._operate(request, object_id, _cancel)

    def retry_view(self, request, object_id):
        """POST: retry this failed turn (turn_retry)."""
        return self._operate(request, object_id, _retry)
