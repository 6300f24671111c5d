"""Logs: one JSON object per line (python-json-logger) with request, organization, session and turn ids."""

import io
import json
import runpy
from pathlib import Path

import pytest

from apps.core.ids import format_id

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]


def test_production_logs_are_json_and_development_logs_text(settings):
    assert settings.LOG_FORMAT == "json"  # the suite runs with DEBUG off
    assert settings.LOGGING["handlers"]["console"]["formatter"] == "json"


def test_an_error_line_of_a_request_names_the_request_organization_and_session(api_client, session, json_log):
    session_key = format_id("session", session.pk)
    response = api_client.post(f"/v1/sessions/{session_key}/messages", {"message": "not an object"}, format="json")
    assert response.status_code == 400
    lines = [line for line in json_log() if line.get("request_id") == response["X-Request-Id"]]
    assert lines, json_log()
    line = lines[-1]
    assert line["level"] in {"INFO", "WARNING"} and line["logger"].startswith("everruns")
    assert line["session_id"] == session_key
    assert line["organization_id"] == format_id("org", session.organization_id)
    assert line["time"].endswith("Z") and line["message"]


def test_gunicorn_access_log_is_json_with_the_request_ids(monkeypatch, tmp_path):
    """gunicorn.conf.py's logconfig_dict: the access line carries status, route data and our context ids."""
    from datetime import timedelta
    from types import SimpleNamespace

    from gunicorn.config import Config
    from gunicorn.glogging import Logger

    monkeypatch.setenv("LOG_FORMAT", "json")
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))  # else the config creates one for the process
    conf = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    cfg = Config()
    for key in ("logconfig_dict", "access_log_format", "accesslog", "errorlog"):
        cfg.set(key, conf[key])
    buffer = io.StringIO()
    log = Logger(cfg)
    for handler in log.access_log.handlers:
        handler.stream = buffer  # type: ignore[attr-defined]
    environ = {
        "REQUEST_METHOD": "GET",
        "RAW_URI": "/v1/sessions/x?token=secret",
        "PATH_INFO": "/v1/sessions/x",
        "QUERY_STRING": "token=secret",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "10.0.0.7",
        "everruns.request_id": "req-1",
        "everruns.organization_id": "org_1",
        "everruns.session_id": "session_2",
    }
    response = SimpleNamespace(status="200 OK", sent=12, headers=[("X-Request-Id", "req-1")])
    request = SimpleNamespace(headers=[("USER-AGENT", "curl/8")])
    log.access(response, request, environ, timedelta(milliseconds=12))
    line = json.loads(buffer.getvalue().splitlines()[-1])
    assert line["logger"] == "gunicorn.access"
    assert line["method"] == "GET" and line["path"] == "/v1/sessions/x" and line["status"] == 200
    assert line["duration_ms"] == 12.0 and line["remote_addr"] == "10.0.0.7"
    assert line["request_id"] == "req-1" and line["organization_id"] == "org_1" and line["session_id"] == "session_2"
    assert "secret" not in buffer.getvalue()  # the query string is not logged
