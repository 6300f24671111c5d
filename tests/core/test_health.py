import pytest
from django.db import connection

pytestmark = pytest.mark.django_db


def test_health_is_public_and_reports_version_and_mode(api_client, settings):
    settings.AUTH_MODE = "full"
    response = api_client.get("/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["version"] == settings.VERSION
    assert body["auth_mode"] == "full"


def test_health_is_503_when_database_is_down(api_client, monkeypatch):
    def broken_cursor(*args, **kwargs):
        raise connection.Database.OperationalError("connection refused")

    monkeypatch.setattr(connection, "cursor", broken_cursor)
    response = api_client.get("/health")
    assert response.status_code == 503
    assert response.json() == {"error": "Service unavailable", "status": 503}


def test_health_has_no_v1_prefix(api_client):
    assert api_client.get("/v1/health").status_code == 404
