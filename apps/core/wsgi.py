"""WSGI-level adapter for parts of a request Django cannot see."""

import io
from collections.abc import Iterable
from wsgiref.types import StartResponse, WSGIApplication, WSGIEnvironment

from django.conf import settings


class RequestAdapter:
    """What Django cannot see of a request, made visible before Django builds it.

    - A path whose percent-escapes are not UTF-8 is flagged (`everruns.path_not_utf8`; answered 400
      by RequestIdMiddleware): Django would re-escape the bytes, so "%ED%A0%80" and "%25ED%25A0%2580"
      would name the same resource.
    - Chunked bodies: gunicorn passes a `Transfer-Encoding: chunked` body with no CONTENT_LENGTH, and
      Django reads a body only up to CONTENT_LENGTH, so the body would silently be empty. Buffer it
      (at most one byte past the body limit) and set CONTENT_LENGTH; an oversize body then gets the
      usual 400 "Input exceeds allowed limits" from RequestIdMiddleware.
    """

    def __init__(self, app: WSGIApplication) -> None:
        self.app = app

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        try:
            environ.get("PATH_INFO", "").encode("latin-1").decode("utf-8")
        except (UnicodeEncodeError, UnicodeDecodeError):
            environ["everruns.path_not_utf8"] = True
        chunked = "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower()
        if chunked and not environ.get("CONTENT_LENGTH"):
            body = environ["wsgi.input"].read(settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)
            environ["wsgi.input"] = io.BytesIO(body)
            environ["CONTENT_LENGTH"] = str(len(body))
        return self.app(environ, start_response)
