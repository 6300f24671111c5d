"""GET /ready: readiness for load balancers / Kubernetes (database, migrations, a recent worker heartbeat)."""

import logging
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from apps.core import readiness
from apps.runtime.models import WorkerProcess

pytestmark = pytest.mark.django_db


def _worker(seconds_since_beat: float) -> WorkerProcess:
    beat = timezone.now() - timedelta(seconds=seconds_since_beat)
    return WorkerProcess.objects.create(
        key=f"h:{seconds_since_beat}", hostname="h", pid=1, started_at=beat, heartbeat_at=beat
    )


@pytest.fixture
def lease(settings):
    settings.RUNTIME_TURN_LEASE_SECS = 30
    settings.RUNTIME_RECOVERY_INTERVAL_SECS = 10
    return 30


def test_ready_with_database_migrations_and_a_live_worker(api_client, lease):
    _worker(seconds_since_beat=2)
    response = api_client.get("/ready")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": "ok", "migrations": "ok", "worker": "ok"}}


def test_not_ready_without_a_recent_worker_heartbeat(api_client, lease, caplog):
    _worker(seconds_since_beat=lease + 5)  # a dead worker does not count
    with caplog.at_level(logging.WARNING, logger="everruns.health"):
        response = api_client.get("/ready")
    assert response.status_code == 503
    assert response.json() == {"error": "Service unavailable", "status": 503}
    assert "worker: no task worker heartbeat in the last 30 s" in caplog.text
    # liveness is a different question: the process and its database are fine
    assert api_client.get("/health").status_code == 200


def test_the_worker_check_can_be_turned_off(api_client, settings):
    settings.READY_REQUIRE_WORKER = False
    assert not WorkerProcess.objects.exists()
    assert api_client.get("/ready").status_code == 200


def test_not_ready_with_unapplied_migrations(api_client, lease, monkeypatch, caplog):
    from django.db.migrations.executor import MigrationExecutor

    _worker(seconds_since_beat=1)
    monkeypatch.setattr(readiness, "_migrations_applied", False)
    monkeypatch.setattr(MigrationExecutor, "migration_plan", lambda self, targets: [("a migration", False)])
    with caplog.at_level(logging.WARNING, logger="everruns.health"):
        response = api_client.get("/ready")
    assert response.status_code == 503
    assert response.json() == {"error": "Service unavailable", "status": 503}
    assert "migrations: 1 migration(s) not applied" in caplog.text


def test_not_ready_when_the_database_is_down(api_client, monkeypatch, caplog):
    def broken_cursor(*args, **kwargs):
        raise connection.Database.OperationalError("connection refused")

    monkeypatch.setattr(connection, "cursor", broken_cursor)
    with caplog.at_level(logging.WARNING, logger="everruns.health"):
        response = api_client.get("/ready")
    assert response.status_code == 503
    assert response.json() == {"error": "Service unavailable", "status": 503}
    assert "database: OperationalError" in caplog.text
    assert "worker" not in caplog.text  # the checks that read the database were not attempted


def test_ready_is_public_in_full_auth_mode(api_client, settings):
    settings.AUTH_MODE = "full"
    settings.READY_REQUIRE_WORKER = False
    assert api_client.get("/ready").status_code == 200
