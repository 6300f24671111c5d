"""Routes of the session filesystem, under the session path: /v1/sessions/{session_id}/fs…

Explicit `path()`s to one viewset (conventions rule 7): the `_` actions are listed before the
catch-all entry route, and `_`-names are reserved in paths, so the two can never collide.
"""

from django.urls import path, register_converter

from .views import SessionFileViewSet


class FsPathConverter:
    """Everything after `fs/`, slashes included; validated by apps.files.paths, not by the URL pattern.

    Unlike Django's `path` converter it also matches newlines and the empty string, so any bad
    path reaches the validator and answers 400 instead of an unhelpful 404.
    """

    regex = r"[\s\S]*"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(FsPathConverter, "fspath")

app_name = "files"

entry = SessionFileViewSet.as_view({"get": "retrieve", "post": "create", "put": "update", "delete": "destroy"})

urlpatterns = [
    path("sessions/<str:session_id>/fs", SessionFileViewSet.as_view({"get": "root"}), name="fs-root"),
    path("sessions/<str:session_id>/fs/_/stat", SessionFileViewSet.as_view({"post": "stat"}), name="fs-stat"),
    path("sessions/<str:session_id>/fs/_/move", SessionFileViewSet.as_view({"post": "move"}), name="fs-move"),
    path("sessions/<str:session_id>/fs/_/copy", SessionFileViewSet.as_view({"post": "copy"}), name="fs-copy"),
    path("sessions/<str:session_id>/fs/_/grep", SessionFileViewSet.as_view({"post": "grep"}), name="fs-grep"),
    path("sessions/<str:session_id>/fs/<fspath:path>", entry, name="fs-entry"),
]
