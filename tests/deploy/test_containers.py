"""The container build, read statically (no container engine here): docker-compose.yml and the Dockerfile
refer to real files, commands and endpoints; no secret has a default; the worker waits for migrations."""

import os
import re
import shlex
import socket
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
import yaml
from django.core.management import call_command, get_commands
from django.core.management.base import CommandError
from django.urls import resolve
from django.utils import timezone

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


@pytest.fixture(scope="module")
def dockerfile() -> str:
    return (ROOT / "Dockerfile").read_text()


def _code(text: str) -> str:
    """The text without its comment lines."""
    return "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))


def _command(service: dict) -> list[str]:
    command = service["command"]
    return command if isinstance(command, list) else shlex.split(command)


def _manage_commands(argv: list[str]) -> list[str]:
    """The manage.py subcommands an argv runs (also inside `sh -c "a && b"`)."""
    text = " ".join(argv)
    return re.findall(r"manage\.py\s+([a-z_]+)", text)


def test_the_services_and_their_order(compose):
    services = compose["services"]
    assert set(services) == {"postgres", "migrate", "web", "worker"}
    assert services["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    for name in ("web", "worker"):  # nothing runs against an unmigrated database
        assert services[name]["depends_on"] == {"migrate": {"condition": "service_completed_successfully"}}
    assert services["migrate"]["restart"] == "no"


def test_every_manage_command_exists(compose):
    known = get_commands()
    used = [
        cmd
        for service in compose["services"].values()
        if "command" in service
        for cmd in _manage_commands(_command(service))
    ]
    used += _manage_commands(compose["services"]["worker"]["healthcheck"]["test"])
    assert {"migrate", "seed", "db_worker", "worker_health"} <= set(used)
    assert all(cmd in known for cmd in used), [cmd for cmd in used if cmd not in known]


def test_web_runs_gunicorn_with_the_config_and_checks_a_real_endpoint(compose, dockerfile):
    web = compose["services"]["web"]
    assert _command(web) == ["gunicorn", "everruns.wsgi", "-c", "gunicorn.conf.py"]
    assert (ROOT / "gunicorn.conf.py").exists()
    test = web["healthcheck"]["test"]
    assert test[:3] == ["CMD", "python", "scripts/healthcheck.py"] and (ROOT / "scripts/healthcheck.py").exists()
    assert resolve(test[3]).url_name == "health"
    assert 'CMD ["gunicorn", "everruns.wsgi", "-c", "gunicorn.conf.py"]' in dockerfile
    assert "HEALTHCHECK" in dockerfile and '"scripts/healthcheck.py", "/health"' in dockerfile


def test_every_service_but_the_one_shot_has_a_healthcheck(compose):
    for name, service in compose["services"].items():
        if name == "migrate":
            assert service["healthcheck"] == {"disable": True}
        else:
            assert service["healthcheck"]["test"], name


def test_secrets_come_from_the_env_file_without_defaults(compose):
    text = _code((ROOT / "docker-compose.yml").read_text())
    assert "SECRET_KEY" not in text and "change-me" not in text  # only from .env
    web = compose["services"]["web"]
    assert web["env_file"] == [{"path": ".env", "required": True}]
    assert "${POSTGRES_PASSWORD:?" in web["environment"]["DATABASE_URL"]  # required, no fallback
    assert "${POSTGRES_PASSWORD:?" in compose["services"]["postgres"]["environment"]["POSTGRES_PASSWORD"]


def test_the_dockerfile_is_multi_stage_non_root_and_installs_from_the_lock(dockerfile):
    stages = re.findall(r"^FROM\s+(\S+)(?:\s+AS\s+(\w+))?", dockerfile, re.MULTILINE)
    assert [name for _, name in stages] == ["build", "runtime"]
    assert "pip install --require-hashes --no-deps -r /tmp/requirements.txt" in dockerfile
    assert "COPY --from=build /venv /venv" in dockerfile
    users = re.findall(r"^USER\s+(\S+)", dockerfile, re.MULTILINE)
    assert users and not users[-1].startswith(("root", "0"))
    for source in re.findall(r"^COPY\s+(?!--from)(.+)\s+\S+$", dockerfile, re.MULTILINE):
        for path in source.split():
            assert (ROOT / path).exists(), f"COPY of a missing path: {path}"
    assert "SECRET_KEY" not in _code(dockerfile)


@pytest.mark.django_db
def test_worker_health_passes_only_with_a_recent_heartbeat_on_this_host(settings):
    from apps.runtime.models import WorkerProcess

    settings.RUNTIME_TURN_LEASE_SECS = 30
    with pytest.raises(CommandError, match="no task worker heartbeat on"):
        call_command("worker_health")
    old = timezone.now() - timedelta(seconds=120)
    row = WorkerProcess.objects.create(key="k", hostname=socket.gethostname(), pid=1, started_at=old, heartbeat_at=old)
    with pytest.raises(CommandError):
        call_command("worker_health")
    row.heartbeat_at = timezone.now()
    row.save()
    call_command("worker_health")
    row.hostname = "elsewhere"
    row.save()
    with pytest.raises(CommandError):
        call_command("worker_health")
    call_command("worker_health", "--any-host")


@pytest.mark.django_db(transaction=True)
def test_the_web_healthcheck_script_against_a_server(live_server):
    port = live_server.url.rsplit(":", 1)[1]
    env = {**os.environ, "PORT": port, "ALLOWED_HOSTS": "localhost"}

    def check(path: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "scripts/healthcheck.py", path],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=30,
        )

    assert check("/health").returncode == 0
    failed = check("/no-such-endpoint")
    assert failed.returncode == 1 and "answered 404" in failed.stderr
