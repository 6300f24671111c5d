"""WSGI-level adapter for request bodies Django cannot see."""

import io

from django.conf import settings


class ChunkedBodyMiddleware:
    """Make chunked request bodies visible to Django.

    gunicorn passes a `Transfer-Encoding: chunked` body with no CONTENT_LENGTH, and Django reads a
    body only up to CONTENT_LENGTH, so the body would silently be empty. Buffer it (at most one
    byte past the body limit) and set CONTENT_LENGTH; an oversize body then gets the usual
    400 "Input exceeds allowed limits" from RequestIdMiddleware.
    """

    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        chunked = "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower()
        if chunked and not environ.get("CONTENT_LENGTH"):
            body = environ["wsgi.input"].read(settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)
            environ["wsgi.input"] = io.BytesIO(body)
            environ["CONTENT_LENGTH"] = str(len(body))
        return self.app(environ, start_response)
