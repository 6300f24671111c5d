"""scripts/run.sh (`make run`'s supervisor): SIGTERM stops web and worker cleanly, without tracebacks.

Spawns the real processes on a file SQLite database of their own (DATA_DIR in a temp dir)."""

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_healthy(url: str, process: subprocess.Popen, deadline_secs: float = 90) -> None:
    end = time.monotonic() + deadline_secs
    while time.monotonic() < end:
        assert process.poll() is None, "run.sh exited early"
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"{url} never answered")


def test_sigterm_stops_web_and_worker_cleanly(tmp_path):
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "PROMETHEUS_MULTIPROC_DIR")}
    env.update(
        DATA_DIR=str(tmp_path),
        DEBUG="1",
        AUTH_MODE="none",
        PORT=str(port),
        WEB_CONCURRENCY="1",
        WEB_THREADS="4",
        PROMETHEUS_MULTIPROC_DIR=str(tmp_path / "prometheus"),
    )
    migrated = subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert migrated.returncode == 0, migrated.stderr[-3000:]
    process = subprocess.Popen(
        ["bash", "scripts/run.sh"], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        _wait_healthy(f"http://127.0.0.1:{port}/health", process)
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, output
    assert "everruns: stopping web and worker" in output and "everruns: stopped" in output
    assert "Traceback" not in output and "SystemExit" not in output, output
    assert "killed" not in output  # both stopped by themselves, before RUN_STOP_TIMEOUT
    with pytest.raises(OSError):  # nothing listens any more
        urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2)
