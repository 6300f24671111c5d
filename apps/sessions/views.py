"""Sessions, messages, events and the SSE stream (contract 2.4, 2.5, 2.6, 5)."""

from collections.abc import Callable, Iterable, Iterator
from typing import Any

from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.response import Response
from rest_framework.utils.encoders import JSONEncoder
from rest_framework.views import APIView
from rest_framework.viewsets import GenericViewSet

from apps.core.exceptions import InvalidRequest
from apps.core.ids import format_id
from apps.core.pagination import SessionPagination
from apps.core.permissions import OrgScopedMixin, request_organization
from apps.mcp.services import attachments_map as mcp_attachments_map

from . import forks, secrets, selectors, services
from .events import EventFilter, EventQuery, event_to_dict
from .models import Session
from .serializers import (
    CancelTurnResponseSerializer,
    EventSerializer,
    MessageCreateSerializer,
    MessageSerializer,
    SecretInfoSerializer,
    SecretsSetResponseSerializer,
    SecretsSetSerializer,
    SessionCreateSerializer,
    SessionForkSerializer,
    SessionResumeResponseSerializer,
    SessionSerializer,
    SessionUpdateSerializer,
    session_to_dict,
)
from .streaming import EventStream

EVENT_FILTER_PARAMETERS = [
    OpenApiParameter("since_id", str, description="Only events strictly after this event id (event_…)."),
    OpenApiParameter(
        "types", str, many=True, explode=True, description="Keep only these event types (repeat the key; max 25)."
    ),
    OpenApiParameter(
        "exclude", str, many=True, explode=True, description="Drop these event types, after `types` (max 25)."
    ),
]
EVENT_QUERY_PARAMETERS = [
    OpenApiParameter("after_sequence", int, description="Only events with sequence > this (with since_id: the later)."),
    OpenApiParameter("before_sequence", int, description="Only events with sequence < this."),
    OpenApiParameter(
        "limit",
        int,
        description="1..1000: the last N matching events, oldest first (newest first with order_desc); "
        "the response then has X-Total-Count. Without it every matching event is returned.",
    ),
    OpenApiParameter("order_desc", bool, description="Newest first."),
    OpenApiParameter("turn_id", str, description="Only events of this turn (context.turn_id, turn_…)."),
    OpenApiParameter("trace_id", str, description="context.trace_id equals this."),
    OpenApiParameter("exec_id", str, description="context.exec_id equals this."),
    OpenApiParameter("tool_name", str, description="data.tool_name equals this (tool.* events)."),
    OpenApiParameter("from_ts", OpenApiTypes.DATETIME, description="ts >= this (RFC 3339)."),
    OpenApiParameter("to_ts", OpenApiTypes.DATETIME, description="ts <= this (RFC 3339)."),
]


LIST_CHUNK_ROWS = 500


class StreamingJSONResponse(StreamingHttpResponse):
    """A streamed JSON body that can still be read whole (`.content` / `.text`, as the test client's
    `.json()` does). Servers iterate it chunk by chunk; reading it whole materialises it once."""

    @property
    def content(self) -> bytes:  # type: ignore[override]  # readable whole, unlike StreamingHttpResponse
        if not hasattr(self, "_joined"):
            self._joined = b"".join(self.streaming_content)  # type: ignore[arg-type]  # sync iterators only
        return self._joined

    @property
    def text(self) -> str:  # type: ignore[override]
        return self.content.decode(self.charset or "utf-8")


def json_list_response(rows: Iterable, render: Callable[[Any], dict]) -> StreamingJSONResponse:
    """`{"data": [...], "total": N}` streamed row by row (docs/streaming.md, "Lists of events and messages").

    The events and messages of a session are not paginated (contract 2.5/2.6) and grow without bound:
    rows come from a `.iterator(chunk_size=LIST_CHUNK_ROWS)` queryset and are encoded one at a time, so a
    request holds one chunk in memory, never the whole list. `total` follows `data` (it is counted
    while streaming). Everything that can fail (404, bad filters) is checked before the first byte.
    """
    encoder = JSONEncoder(ensure_ascii=False, separators=(",", ":"))

    def body() -> Iterator[bytes]:
        yield b'{"data":['
        total = 0
        for row in rows:
            yield (b"," if total else b"") + encoder.encode(render(row)).encode()
            total += 1
        yield b'],"total":%d}' % total

    return StreamingJSONResponse(body(), content_type="application/json")


def jsonl_lines(message_events: Iterable) -> Iterator[bytes]:
    """One message per line (the spec's session export), built by the messages endpoint's code."""
    encoder = JSONEncoder(ensure_ascii=False, separators=(",", ":"))
    for event in message_events:
        yield encoder.encode(selectors.message_from_event(event)).encode() + b"\n"


def transcript_json(session) -> Iterator[bytes]:
    """`{"session": …, "messages": [...], "events": [...]}` streamed: the session as GET shows it, then its
    messages and every event clients may see (`types` unfiltered), each list read in chunks."""
    encoder = JSONEncoder(ensure_ascii=False, separators=(",", ":"))
    yield b'{"session":' + encoder.encode(session_to_dict(session)).encode() + b',"messages":['
    for index, event in enumerate(selectors.message_events(session).iterator(chunk_size=LIST_CHUNK_ROWS)):
        yield (b"," if index else b"") + encoder.encode(selectors.message_from_event(event)).encode()
    yield b'],"events":['
    rows = selectors.event_list(session_id=session.pk, event_filter=EventFilter())
    for index, event in enumerate(rows.iterator(chunk_size=LIST_CHUNK_ROWS)):
        yield (b"," if index else b"") + encoder.encode(event_to_dict(event)).encode()
    yield b"]}"


class SessionViewSet(
    OrgScopedMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    GenericViewSet,
):
    """Sessions: conversations with one agent, their messages and their event log."""

    queryset = Session.objects.select_related("agent", "model")
    serializer_class = SessionSerializer
    pagination_class = SessionPagination
    id_prefix = "session"
    not_found_message = "Session not found"
    # PATCH for sessions (the contract has no PUT of a session); PUT only for .../pin.
    http_method_names = ["get", "post", "put", "patch", "delete", "head", "options"]

    def get_queryset(self):
        if self.action == "list":
            params = self.request.query_params
            return selectors.session_list(
                organization=request_organization(self.request),
                agent_id=params.get("agent_id"),
                user=self.request.user,
                search=params.get("search"),
                pinned=params.get("pinned"),
            )
        if self.action in ("retrieve", "partial_update", "export"):
            return selectors.with_pinned(super().get_queryset(), self.request.user)
        return super().get_queryset()

    @extend_schema(
        parameters=[
            OpenApiParameter("agent_id", str, description="Only this agent's sessions (agent_…)."),
            OpenApiParameter("search", str, description="Title contains this (case-insensitive)."),
            OpenApiParameter("pinned", bool, description="Only sessions the caller pinned (true) or did not (false)."),
        ],
        responses=SessionSerializer(many=True),
    )
    def list(self, request, *args, **kwargs):
        """List the organization's sessions, newest first (paginated)."""
        # The pagination class pages; each row is built by the one function the serializer uses too,
        # without a ListSerializer per request (the one hot list endpoint: docs/benchmarks.md).
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        mcp = mcp_attachments_map(owner_kind="session", owner_ids=[session.pk for session in page or []])
        return self.get_paginated_response([session_to_dict(session, mcp[session.pk]) for session in page or []])

    @extend_schema(request=SessionCreateSerializer, responses={201: SessionSerializer})
    def create(self, request):
        """Create a session for an agent (status `started`)."""
        context = {"organization_id": request_organization(request).pk}  # org-owned refs (mcp:, skill:)
        serializer = SessionCreateSerializer(data=request.data, context=context)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        organization = request_organization(request)
        agent = data.get("agent_id")
        if agent is None and data.get("agent_name") is not None:
            agent = services.agent_by_name(organization=organization, name=data["agent_name"])
        session = services.session_create(
            organization=organization,
            agent=agent,
            title=data.get("title"),
            tags=data.get("tags") or [],
            model=data.get("model_id"),
            capabilities=data.get("capabilities") or [],
            tools=data.get("tools") or [],
            initial_files=data.get("initial_files") or [],
            system_prompt=data.get("system_prompt"),
            locale=data.get("locale"),
            hints=data.get("hints"),
            harness_id=data.get("harness_id"),
            harness_name=data.get("harness_name"),
            mcp_servers=data.get("mcpServers"),
            created_by=request.user if getattr(request.user, "pk", None) else None,
            workspace_id=data.get("workspace_id"),
            api_key=request.auth,
        )
        session.pinned = False  # type: ignore[attr-defined]  # a new session is nobody's pin yet
        return Response(SessionSerializer(session).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=SessionUpdateSerializer, responses=SessionSerializer)
    def partial_update(self, request, pk=None):
        """Update title, tags, locale, model override and the session's layers (lists are replaced)."""
        session = self.get_object()
        serializer = SessionUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        session = services.session_update(session=session, data=serializer.validated_data)
        return Response(SessionSerializer(session).data)

    @extend_schema(
        methods=["PUT"], request=None, responses={204: None, 404: OpenApiResponse(description="Session not found")}
    )
    @extend_schema(
        methods=["DELETE"], request=None, responses={204: None, 404: OpenApiResponse(description="Session not found")}
    )
    @action(detail=True, methods=["put", "delete"])
    def pin(self, request, pk=None):
        """PUT: pin the session for the caller. DELETE: unpin it. Both idempotent; `is_pinned` shows it."""
        session = self.get_object()
        if request.method == "PUT":
            services.session_pin(session=session, user=request.user)
        else:
            services.session_unpin(session=session, user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

    def perform_destroy(self, instance):
        services.session_delete(session=instance)

    @extend_schema(
        request=SessionForkSerializer,
        responses={
            201: SessionSerializer,
            400: OpenApiResponse(description="Invalid request (e.g. sequence out of range)"),
            404: OpenApiResponse(description="Session, agent or model not found"),
            409: OpenApiResponse(description="Session is mid-turn and cannot be forked"),
        },
    )
    @action(detail=True, methods=["post"])
    def fork(self, request, pk=None):
        """Fork the session at an event sequence (default: its latest) into an independent copy."""
        session = self.get_object()
        serializer = SessionForkSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        fork = forks.session_fork(
            session=session,
            created_by=request.user if getattr(request.user, "pk", None) else None,
            sequence=data.pop("sequence", None),
            **data,
        )
        fork.pinned = False  # type: ignore[attr-defined]  # a new session is nobody's pin yet
        return Response(SessionSerializer(fork).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=None,
        responses={
            200: SessionResumeResponseSerializer,
            422: OpenApiResponse(description="A turn is in progress, or the last turn completed"),
        },
    )
    @action(detail=True, methods=["post"])
    def resume(self, request, pk=None):
        """Run the session's failed or cancelled last turn again (a new turn for the same message)."""
        session = self.get_object()
        turn = forks.session_resume(session=session)
        body = {"session_id": format_id("session", session.pk), "resumed_budgets": 0}
        return Response({**body, "turn_id": format_id("turn", turn.pk), "status": turn.status})

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "format",
                str,
                description="jsonl (default): one message per line; json: "
                "{session, messages, events}, every event included.",
            )
        ],
        responses={(200, "application/x-ndjson"): OpenApiTypes.STR, (200, "application/json"): OpenApiTypes.OBJECT},
    )
    @action(detail=True, methods=["get"])
    def export(self, request, pk=None):
        """Download the session's transcript: its messages as JSONL, or session, messages and events as JSON."""
        session = self.get_object()
        export_format = request.query_params.get("format") or "jsonl"
        if export_format not in ("jsonl", "json"):
            raise InvalidRequest(f"Unsupported export format: {export_format}"[:200])
        key = format_id("session", session.pk)
        if export_format == "jsonl":
            response = StreamingJSONResponse(
                jsonl_lines(selectors.message_events(session).iterator(chunk_size=LIST_CHUNK_ROWS)),
                content_type="application/x-ndjson",
            )
        else:
            response = StreamingJSONResponse(transcript_json(session), content_type="application/json")
        response["Content-Disposition"] = f'attachment; filename="{key}.{export_format}"'
        return response

    @extend_schema(
        methods=["GET"],
        operation_id="sessions_secrets_list",
        responses=inline_serializer(
            "SecretList", {"data": SecretInfoSerializer(many=True), "total": serializers.IntegerField()}
        ),
    )
    @extend_schema(
        methods=["PUT"],
        operation_id="sessions_secrets_set",
        request=SecretsSetSerializer,
        responses={200: SecretsSetResponseSerializer, 400: OpenApiResponse(description="Invalid request")},
    )
    @action(detail=True, methods=["get", "put"], url_path="storage/secrets")
    def storage_secrets(self, request, pk=None):
        """PUT: store secrets (encrypted, write-only; handed to the session's tools). GET: their names only."""
        session = self.get_object()
        if request.method == "GET":
            rows = secrets.session_secret_names(session=session)
            return Response({"data": SecretInfoSerializer(rows, many=True).data, "total": len(rows)})
        serializer = SecretsSetSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        count = secrets.session_secrets_set(session=session, secrets=serializer.validated_data["secrets"])
        return Response({"count": count})

    @extend_schema(
        request=None,
        responses={
            200: CancelTurnResponseSerializer,
            422: OpenApiResponse(description="Cannot cancel session: session is not active"),
        },
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        """Cancel the running turn of an active session."""
        services.session_cancel(session=self.get_object())
        return Response({"status": "cancelled", "message": "Turn cancelled successfully"})

    @extend_schema(
        methods=["GET"],
        responses=inline_serializer(
            "MessageList", {"data": MessageSerializer(many=True), "total": serializers.IntegerField()}
        ),
    )
    @extend_schema(methods=["POST"], request=MessageCreateSerializer, responses={201: MessageSerializer})
    @action(detail=True, methods=["get", "post"])
    def messages(self, request, pk=None):
        """GET: the session's messages in order. POST: send a user message (starts a turn)."""
        session = self.get_object()
        if request.method == "GET":
            # Messages are already in the API shape (selectors.message_from_event); MessageSerializer
            # documents it. Optional keys a message does not have are omitted, not null.
            return json_list_response(
                selectors.message_events(session).iterator(chunk_size=LIST_CHUNK_ROWS), selectors.message_from_event
            )
        serializer = MessageCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        event = services.message_create(
            session=session,
            content=data["content"],
            controls=data.get("controls"),
            metadata=data.get("metadata"),
            tags=data.get("tags"),
        )
        return Response(selectors.message_from_event(event), status=status.HTTP_201_CREATED)

    @extend_schema(
        parameters=EVENT_FILTER_PARAMETERS + EVENT_QUERY_PARAMETERS,
        responses=inline_serializer(
            "EventList", {"data": EventSerializer(many=True), "total": serializers.IntegerField()}
        ),
    )
    @action(detail=True, methods=["get"])
    def events(self, request, pk=None):
        """The session's events in sequence order, filtered (not paginated; `limit` takes the last N)."""
        session = self.get_object()
        event_filter = EventFilter.from_query(request.query_params)
        query = EventQuery.from_query(request.query_params)
        after = selectors.event_cursor(session_id=session.pk, since_id=event_filter.since_id)
        rows = selectors.event_list(session_id=session.pk, event_filter=event_filter, after_sequence=after, query=query)
        response = json_list_response(rows.iterator(chunk_size=LIST_CHUNK_ROWS), event_to_dict)
        if query.limit is not None:
            response["X-Total-Count"] = str(selectors.event_total(session.pk))
        return response


class EventStreamRenderer(BaseRenderer):
    """Lets content negotiation accept `Accept: text/event-stream`; the body itself is streamed, never rendered."""

    media_type = "text/event-stream"
    format = "sse"
    charset = None

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return JSONRenderer().render(data)


class SessionStreamView(OrgScopedMixin, APIView):
    """Stream a session's events as Server-Sent Events: replay after the cursor, then live."""

    renderer_classes = [JSONRenderer, EventStreamRenderer]
    queryset = Session.objects.all()
    id_prefix = "session"
    not_found_message = "Session not found"

    def get_queryset(self):
        return self.queryset.filter(organization=request_organization(self.request))

    def filter_queryset(self, queryset):
        return queryset

    @extend_schema(
        operation_id="sessions_sse",
        parameters=EVENT_FILTER_PARAMETERS
        + [
            OpenApiParameter(
                "Last-Event-ID",
                str,
                OpenApiParameter.HEADER,
                description="Resume cursor sent by EventSource on reconnect; used when since_id is absent.",
            ),
            OpenApiParameter("format", exclude=True),
        ],
        responses={(200, "text/event-stream"): OpenApiTypes.STR},
    )
    def get(self, request, pk=None):
        # Everything that can fail happens here, before the first byte, so errors are JSON envelopes.
        session = self.get_object()
        event_filter = EventFilter.from_query(request.query_params, last_event_id=request.headers.get("Last-Event-ID"))
        after = selectors.event_cursor(session_id=session.pk, since_id=event_filter.since_id)
        stream = EventStream(
            session_id=session.pk,
            after_sequence=after,
            event_filter=event_filter,
            client_socket=request._request.META.get("gunicorn.socket"),
        )
        response = StreamingHttpResponse(stream.frames(), content_type="text/event-stream")
        response["Cache-Control"] = "no-cache"
        response["X-Accel-Buffering"] = "no"
        return response

    def handle_exception(self, exc):
        # Errors are JSON whatever the client accepted (EventSource asks for text/event-stream only).
        self.request.accepted_renderer = JSONRenderer()
        self.request.accepted_media_type = JSONRenderer.media_type
        return super().handle_exception(exc)
