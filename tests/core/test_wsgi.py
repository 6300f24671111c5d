"""Chunked request bodies, odd paths and memory through the real WSGI application (as gunicorn hands them over)."""

import gc
import io
import json

import pytest
from django.core.signals import request_finished, request_started
from django.db import close_old_connections

from everruns.wsgi import application

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.urls")]


def _call(body: bytes, path: str = "/v1/_test/echo", method: str = "POST"):
    environ = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "HTTP_HOST": "testserver",
        "CONTENT_TYPE": "application/json",
        "HTTP_TRANSFER_ENCODING": "chunked",
        "wsgi.input": io.BytesIO(body),
        "wsgi.url_scheme": "http",
        "wsgi.errors": io.StringIO(),
    }
    captured = {}

    def start_response(status, headers, exc_info=None):
        captured["status"] = int(status.split()[0])

    # As Django's test Client does: the handler must not close the test's database connection.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        response = application(environ, start_response)
        content = b"".join(response)
        response.close()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)
    return captured["status"], json.loads(content)


def test_chunked_body_is_read(settings):
    settings.ALLOWED_HOSTS = ["testserver"]
    status, body = _call(b'{"name": "chunky"}')
    assert (status, body) == (201, {"name": "chunky"})


def test_oversize_chunked_body_is_400_limits(settings):
    settings.ALLOWED_HOSTS = ["testserver"]
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100
    status, body = _call(b'{"name": "' + b"x" * 500 + b'"}')
    assert (status, body) == (400, {"error": "Input exceeds allowed limits", "status": 400})


def test_path_that_is_not_utf8_is_400(settings):
    # What gunicorn passes for /v1/agents/%ED%A0%80 (an encoded lone surrogate): raw bytes as latin-1.
    # Django would re-escape them, so this and /v1/agents/%25ED%25A0%2580 would name the same thing.
    settings.ALLOWED_HOSTS = ["testserver"]
    status, body = _call(b"", path="/v1/agents/\xed\xa0\x80", method="GET")
    assert (status, body) == (400, {"error": "Invalid request", "status": 400})
    status, body = _call(b"", path="/v1/agents/\xc3\xa9", method="GET")  # valid UTF-8 "é": an ordinary miss
    assert (status, body) == (404, {"error": "Agent not found", "status": 404})


def test_api_list_leaves_no_reference_cycles(settings, default_org):
    """A list request's page of rows, its DRF response and view are freed when the response is done,
    by reference counting, not left in cycles for the garbage collector (apps.core.middleware
    release_drf_cycles): on a busy worker that halves the collector's runs (docs/benchmarks.md)."""
    from apps.agents.models import Agent
    from apps.sessions.services import session_create

    settings.ALLOWED_HOSTS = ["testserver"]
    agent = Agent.objects.create(organization=default_org, name="Helper", system_prompt="You help.")
    for i in range(3):
        session_create(organization=default_org, agent=agent, title=f"s{i}")
    _call(b"", path="/v1/sessions", method="GET")  # warm-up: imports and per-process caches
    gc.collect()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        status, body = _call(b"", path="/v1/sessions", method="GET")
        gc.collect()
        in_cycles = {type(thing).__name__ for thing in gc.garbage}
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
    assert status == 200 and body["total"] == 3
    assert not in_cycles & {"Session", "Agent", "Response", "Request", "SessionViewSet", "SessionPagination"}
