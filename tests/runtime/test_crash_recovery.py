"""Crash recovery with real worker processes: SIGKILL a `manage.py db_worker` mid-turn, start another one.

The processes share a file SQLite database of their own (DATA_DIR in a temp dir), so this runs the same
under the SQLite and PostgreSQL test runs. The turn uses the simulated provider with a latency, so the
kill lands after the tool calls completed and while the final answer is being generated.
"""

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]

SETUP = """
from apps.accounts.models import Organization, DEFAULT_ORG_ID
from apps.agents.services import agent_create
from apps.llm.models import LlmModel, LlmProvider
from apps.sessions.services import message_create, session_create
org = Organization.objects.get(pk=DEFAULT_ORG_ID)
provider = LlmProvider.objects.create(organization=org, name="slow sim", provider_type="llmsim")
model = LlmModel.objects.create(organization=org, provider=provider, model_id="llmsim-default?latency_ms=1500",
                                display_name="slow")
agent = agent_create(organization=org, name="crash", system_prompt="p", capabilities=["test_math"],
                     default_model_id=model.pk)
session = session_create(organization=org, agent=agent)
message_create(session=session, content=[{"type": "text",
               "text": '/tool add {"a": 2, "b": 3}\\n/tool multiply {"a": 6, "b": 7}'}])
print(session.pk.hex)
"""


def _env(data_dir: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    # The runtime's own defaults (lease, heartbeat, sweep interval): what a deployment gets.
    for name in ("RUNTIME_TURN_LEASE_SECS", "RUNTIME_HEARTBEAT_SECS", "RUNTIME_RECOVERY_INTERVAL_SECS"):
        env.pop(name, None)
    env.update(DATA_DIR=str(data_dir), DEBUG="0", PYTHONUNBUFFERED="1")
    return env


def _manage(env: dict, *args: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
        **kwargs,
    )


def _worker(env: dict, log: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [
            sys.executable,
            "manage.py",
            "db_worker",
            "--no-reload",
            "--interval",
            "0.05",
            "--no-startup-delay",
            "--queue-name",
            "default",
        ],
        cwd=ROOT,
        env=env,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
    )


def _events(db: Path, session_hex: str) -> list[tuple[str, dict]]:
    with sqlite3.connect(db, timeout=10) as conn:
        rows = conn.execute(
            "SELECT type, data FROM agent_sessions_event WHERE replace(session_id, '-', '') = ? ORDER BY sequence",
            (session_hex,),
        ).fetchall()
    return [(t, json.loads(d)) for t, d in rows]


def _task_rows(db: Path) -> list[tuple]:
    with sqlite3.connect(db, timeout=10) as conn:
        return conn.execute(
            "SELECT status, exception_class_path, traceback, finished_at IS NOT NULL "
            "FROM django_tasks_database_dbtaskresult ORDER BY enqueued_at"
        ).fetchall()


def _wait_for(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def _turn_owner(db: Path) -> str | None:
    with sqlite3.connect(db, timeout=10) as conn:
        return conn.execute("SELECT worker_id FROM agent_sessions_turn").fetchone()[0]


def test_sigkilled_worker_turn_is_resumed_within_10_s_without_duplicates(tmp_path):
    env = _env(tmp_path)
    _manage(env, "migrate", "--noinput")
    session_hex = _manage(env, "shell", "-c", SETUP).stdout.strip().splitlines()[-1]
    db = tmp_path / "everruns.sqlite3"
    log = tmp_path / "worker.log"

    first = _worker(env, log)
    # Another worker is already running, as in any deployment with more than one: it resumes the turn.
    second = None
    try:
        # Both tool results are stored, the final answer is being generated (1.5 s of simulated latency).
        _wait_for(lambda: [t for t, _ in _events(db, session_hex)].count("tool.completed") == 2, 30, "the tool results")
        time.sleep(0.3)
        assert _task_rows(db)[0][0] == "RUNNING"  # its own sweeps never settle the row of a live worker
        second = _worker(env, log)
        killed_owner = _turn_owner(db)
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
        killed_at = time.monotonic()
    finally:
        if first.poll() is None:
            first.kill()
    types = [t for t, _ in _events(db, session_hex)]
    assert "turn.completed" not in types and types.count("output.message.completed") == 1

    try:
        # Resumed (claimed by the other worker) within 10 s of the death: lease 6 s + one 2 s sweep interval.
        _wait_for(lambda: _turn_owner(db) not in (None, killed_owner), 15, "the turn to be resumed")
        assert time.monotonic() - killed_at < 10
        _wait_for(lambda: "session.idled" in [t for t, _ in _events(db, session_hex)], 40, "the resumed turn")
        # The live worker's sweep settles the killed run's row once its process missed the liveness window.
        _wait_for(lambda: _task_rows(db)[0][0] != "RUNNING", 20, "the killed run's task row to be settled")
    finally:
        assert second is not None
        second.send_signal(signal.SIGTERM)
        try:
            second.wait(timeout=10)
        except subprocess.TimeoutExpired:
            second.kill()

    events = _events(db, session_hex)
    types = [t for t, _ in events]
    assert types.count("tool.started") == 2 and types.count("tool.completed") == 2  # no tool ran twice
    agent_messages = [d["message"] for t, d in events if t == "output.message.completed"]
    assert len(agent_messages) == 2  # the tool-call message once, the final answer once
    answer = agent_messages[-1]["content"][0]["text"]
    assert 'add: {"result":5}' in answer and 'multiply: {"result":42}' in answer
    assert types[-2:] == ["turn.completed", "session.idled"]
    assert types.count("turn.started") == 1
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT status FROM agent_sessions_session").fetchone()[0] == "idle"
        assert conn.execute("SELECT status, iterations FROM agent_sessions_turn").fetchall() == [("completed", 2)]

    # The killed run's django_tasks_db row was settled by the second worker's sweep (it stayed RUNNING
    # forever before); the resumed run's row, whose worker lived, succeeded.
    rows = _task_rows(db)
    assert len(rows) == 2 and rows[1][0] == "SUCCESSFUL"
    status, exception_path, traceback, finished = rows[0]
    assert status == "FAILED" and finished
    assert exception_path == "apps.runtime.control.WorkerLost"
    assert "worker lost; turn resumed by recovery" in traceback
