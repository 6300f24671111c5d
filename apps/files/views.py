"""The /v1/sessions/{session_id}/fs endpoints: thin, every read and write is a call into services."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, PolymorphicProxySerializer, extend_schema
from rest_framework import status, viewsets
from rest_framework.response import Response

from apps.core import ids
from apps.core.pagination import data_envelope
from apps.core.permissions import request_organization

from . import paths, services
from .serializers import (
    FileDeletedSerializer,
    FileDeleteQuerySerializer,
    FileGrepRequestSerializer,
    FileInfoSerializer,
    FileListQuerySerializer,
    FileListSerializer,
    FileStatRequestSerializer,
    FileTransferRequestSerializer,
    GrepResultSerializer,
    SessionFileCreateSerializer,
    SessionFileSerializer,
    SessionFileUpdateSerializer,
)

SESSION_ID = OpenApiParameter("session_id", OpenApiTypes.STR, OpenApiParameter.PATH, description="`session_…` id")
FILE_PATH = OpenApiParameter(
    "path",
    OpenApiTypes.STR,
    OpenApiParameter.PATH,
    description="Path below the root without the leading '/', e.g. `docs/readme.md`.",
)


def fs_schema(action: str, summary: str, *, parameters: tuple | list = (), **kwargs):
    """extend_schema for one fs operation: stable operation id, tag, and the session id parameter."""
    return extend_schema(
        operation_id=f"session_fs_{action}",
        summary=summary,
        tags=["session-files"],
        parameters=[SESSION_ID, *parameters],
        **kwargs,
    )


FILE_OR_LISTING = PolymorphicProxySerializer(
    component_name="SessionFileOrListing",
    serializers=[SessionFileSerializer, FileListSerializer],
    resource_type_field_name=None,
)


class SessionFileViewSet(viewsets.GenericViewSet):
    """A session's virtual filesystem; the session must belong to the caller's organization."""

    serializer_class = SessionFileSerializer

    def get_session(self):
        if not hasattr(self, "_session"):
            self._session = services.session_get(
                organization_id=request_organization(self.request).pk,
                session_id=ids.parse_id("session", self.kwargs.get("session_id")),
            )
        return self._session

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        # The session decides 404 before the path or body can decide 400.
        self.get_session()

    def _path(self) -> str:
        return paths.from_url(self.kwargs.get("path"))

    def _validated(self, serializer_class, data):
        serializer = serializer_class(data=data)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    def _listing(self, path: str) -> Response:
        query = self._validated(FileListQuerySerializer, self.request.query_params)
        rows = services.file_list(session=self.get_session(), path=path, recursive=query["recursive"])
        # drf-stubs type .data of a many=True serializer as ReturnDict; it is a ReturnList.
        return Response(data_envelope(FileInfoSerializer(rows, many=True).data))  # type: ignore[arg-type]

    @fs_schema("root", "List the root directory", parameters=[FileListQuerySerializer], responses=FileListSerializer)
    def root(self, request, session_id=None):
        return self._listing(paths.ROOT)

    @fs_schema(
        "retrieve",
        "Read a file, or list a directory",
        parameters=[FILE_PATH, FileListQuerySerializer],
        responses=FILE_OR_LISTING,
    )
    def retrieve(self, request, session_id=None, path=None):
        target = self._path()
        if target == paths.ROOT:
            return self._listing(target)
        row = services.file_get(session=self.get_session(), path=target)
        if row.is_directory:
            return self._listing(row.path)
        return Response(SessionFileSerializer(row).data)

    @fs_schema(
        "create",
        "Create a file or a directory",
        parameters=[FILE_PATH],
        request=SessionFileCreateSerializer,
        responses={201: SessionFileSerializer},
    )
    def create(self, request, session_id=None, path=None):
        body = self._validated(SessionFileCreateSerializer, request.data)
        content = services.content_decode(content=body["content"], encoding=body["encoding"])
        row = services.file_create(
            session=self.get_session(),
            path=self._path(),
            content=content,
            is_directory=body["is_directory"],
            is_readonly=body["is_readonly"],
        )
        return Response(SessionFileSerializer(row).data, status=status.HTTP_201_CREATED)

    @fs_schema(
        "update",
        "Replace a file's content",
        parameters=[FILE_PATH],
        request=SessionFileUpdateSerializer,
        responses=SessionFileSerializer,
    )
    def update(self, request, session_id=None, path=None):
        body = self._validated(SessionFileUpdateSerializer, request.data)
        content = services.content_decode(content=body["content"], encoding=body["encoding"])
        row = services.file_update(session=self.get_session(), path=self._path(), content=content)
        return Response(SessionFileSerializer(row).data)

    @fs_schema(
        "destroy",
        "Delete a file or a directory",
        parameters=[FILE_PATH, FileDeleteQuerySerializer],
        responses=FileDeletedSerializer,
    )
    def destroy(self, request, session_id=None, path=None):
        query = self._validated(FileDeleteQuerySerializer, request.query_params)
        services.file_delete(session=self.get_session(), path=self._path(), recursive=query["recursive"])
        return Response({"deleted": True})

    @fs_schema(
        "stat",
        "Metadata of a file or directory",
        request=FileStatRequestSerializer,
        responses=FileInfoSerializer,
    )
    def stat(self, request, session_id=None):
        body = self._validated(FileStatRequestSerializer, request.data)
        row = services.file_stat(session=self.get_session(), path=body["path"])
        return Response(FileInfoSerializer(row).data)

    @fs_schema(
        "move",
        "Move or rename a file or directory",
        request=FileTransferRequestSerializer,
        responses=FileInfoSerializer,
    )
    def move(self, request, session_id=None):
        body = self._validated(FileTransferRequestSerializer, request.data)
        row = services.file_move(session=self.get_session(), src_path=body["src_path"], dst_path=body["dst_path"])
        return Response(FileInfoSerializer(row).data)

    @fs_schema(
        "copy",
        "Copy a file or directory",
        request=FileTransferRequestSerializer,
        responses={201: FileInfoSerializer},
    )
    def copy(self, request, session_id=None):
        body = self._validated(FileTransferRequestSerializer, request.data)
        row = services.file_copy(session=self.get_session(), src_path=body["src_path"], dst_path=body["dst_path"])
        return Response(FileInfoSerializer(row).data, status=status.HTTP_201_CREATED)

    @fs_schema(
        "grep",
        "Search file contents with a regular expression",
        request=FileGrepRequestSerializer,
        responses=GrepResultSerializer,
    )
    def grep(self, request, session_id=None):
        body = self._validated(FileGrepRequestSerializer, request.data)
        result = services.file_grep(
            session=self.get_session(),
            pattern=body["pattern"],
            path_pattern=body.get("path_pattern"),
        )
        return Response({**data_envelope(result.files), "truncated": result.truncated})
