"""A PostgreSQL outage under a running worker mid-turn: the worker rides it out and the turn completes.

A throwaway PostgreSQL server of its own (initdb + pg_ctl on a free port in a temp dir, run as the
`postgres` user when the tests run as root) so stopping it disturbs nobody else. One db_worker runs a turn
whose simulated model takes a few seconds; the server is stopped mid-turn and started again; the worker
process must still be alive, have logged the outage once, and the turn must complete exactly once
(resumed by recovery after its lease, from its stored events). Meanwhile web requests answer 503 fast and
recover by themselves.
"""

import glob
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import pytest

from bench.stack import Stack, free_port

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

ROOT = Path(__file__).resolve().parents[2]

SETUP = """
from apps.accounts.models import Organization, DEFAULT_ORG_ID
from apps.agents.services import agent_create
from apps.llm.models import LlmModel, LlmProvider
from apps.sessions.services import message_create, session_create
org = Organization.objects.get(pk=DEFAULT_ORG_ID)
provider = LlmProvider.objects.create(organization=org, name="slow sim", provider_type="llmsim")
model = LlmModel.objects.create(organization=org, provider=provider, model_id="llmsim-default?latency_ms=4000",
                                display_name="slow")
agent = agent_create(organization=org, name="outage", system_prompt="p", default_model_id=model.pk)
session = session_create(organization=org, agent=agent)
message_create(session=session, content=[{"type": "text", "text": "hello through an outage"}])
print(session.pk)
"""

STATE = """
import sys
from apps.sessions.models import Event, Session, Turn
session_id = sys.argv[-1]
types = list(Event.objects.filter(session_id=session_id).order_by("sequence").values_list("type", flat=True))
turns = list(Turn.objects.filter(session_id=session_id).values_list("status", flat=True))
print(Session.objects.get(pk=session_id).status, ",".join(turns), ",".join(types))
"""


class ThrowawayPostgres:
    """initdb + pg_ctl on 127.0.0.1:<free port>, trust auth; owned by `postgres` when we are root."""

    def __init__(self) -> None:
        bins = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
        if not bins:
            pytest.skip("no PostgreSQL server binaries (/usr/lib/postgresql/*/bin)")
        self.bin = Path(bins[-1]).parent
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="everruns-pg-"))
        self.data = self.dir / "data"
        self.as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if self.as_user:
            shutil.chown(self.dir, "postgres")

    def _run(self, *args: str) -> None:
        subprocess.run([*self.as_user, *args], check=True, capture_output=True, timeout=60)

    def init(self) -> None:
        self._run(str(self.bin / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync")

    def start(self) -> None:
        options = f"-p {self.port} -k {self.dir} -h 127.0.0.1 -c fsync=off"
        log = str(self.dir / "server.log")
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-o", options, "-l", log, "-w", "start")

    def stop(self) -> None:
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/postgres"

    def cleanup(self) -> None:
        subprocess.run(
            [*self.as_user, str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop"],
            capture_output=True,
            timeout=60,
        )
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture
def postgres_server():
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        pytest.skip("needs PostgreSQL (set DATABASE_URL): the CI run")
    server = ThrowawayPostgres()
    try:
        server.init()
        server.start()
        yield server
    finally:
        server.cleanup()


def _wait_for(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def test_turn_completes_after_the_database_comes_back(postgres_server, tmp_path):
    with Stack(database_url=postgres_server.url, env={"WEB_CONCURRENCY": "1", "WEB_THREADS": "4"}) as stack:
        session_id = stack.shell(SETUP).strip().splitlines()[-1]
        log = tmp_path / "worker.log"
        worker = subprocess.Popen(
            [sys.executable, "manage.py", "db_worker", "--no-reload", "--interval", "0.1", "--queue-name", "default"],
            cwd=ROOT,
            env={**stack.env(), "PYTHONUNBUFFERED": "1", "LOG_LEVEL": "INFO"},
            stdout=log.open("ab"),
            stderr=subprocess.STDOUT,
        )

        def state() -> tuple[str, list[str], list[str]]:
            out = subprocess.run(
                [sys.executable, "-c", "import django; django.setup()\n" + STATE, session_id],
                cwd=ROOT,
                env=stack.env(),
                capture_output=True,
                text=True,
                timeout=60,
            ).stdout.split(" ")
            status, turns, types = (out + ["", "", ""])[:3]
            return status, turns.split(","), types.strip().split(",")

        try:
            # Mid-turn: the turn started and the model is still "thinking" (4 s of simulated latency).
            _wait_for(lambda: "turn.started" in state()[2], 60, "the turn to start")
            postgres_server.stop()
            # Web requests fail fast with the envelope (connect timeout 2 s, pool wait 3 s; it was ~10 s).
            started = time.monotonic()
            response = httpx.get(stack.url("/v1/agents"), timeout=30)
            assert (response.status_code, response.json()) == (503, {"error": "Service unavailable", "status": 503})
            assert time.monotonic() - started < 6
            time.sleep(max(0.0, 4 - (time.monotonic() - started)))  # past the worker's first back-off steps
            assert worker.poll() is None, "the worker exited during the outage"
            postgres_server.start()
            # ... and recover by themselves once it is back.
            _wait_for(lambda: httpx.get(stack.url("/v1/agents"), timeout=30).status_code == 200, 30, "the web")
            _wait_for(lambda: state()[0] == "idle", 90, "the turn to complete after the database returned")
            assert worker.poll() is None
        finally:
            worker.send_signal(signal.SIGTERM)
            try:
                worker.wait(15)
            except subprocess.TimeoutExpired:
                worker.kill()
        status, turns, types = state()
        assert turns == ["completed"]
        assert types.count("turn.started") == 1 and types.count("turn.completed") == 1
        assert types.count("output.message.completed") == 1  # the answer once: nothing ran twice
        text = log.read_text()
        assert text.count("db_worker: database unavailable") == 1, text[-3000:]
        assert "database reachable again" in text
