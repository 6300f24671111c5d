"""Stopping a web server with open SSE streams (gunicorn.conf.py post_worker_init): each stream gets a
`disconnecting` frame and the server exits promptly, well within graceful_timeout (no SIGKILL)."""

import os
import signal
import time

import httpx
import pytest

from bench.stack import Stack
from tests.sessions.test_sse_live import LiveStream

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["sigterm", "ctrl-c"])
def test_streams_get_disconnecting_and_the_server_stops_promptly(signum):
    env = {
        "SSE_HEARTBEAT_INTERVAL_SECS": "30",
        "SSE_CYCLE_SECS": "300",
        "WEB_CONCURRENCY": "2",
        "WEB_THREADS": "8",
        "WEB_GRACEFUL_TIMEOUT": "60",  # the bug this guards against: waiting this long for open streams
    }
    with Stack(env=env) as stack:
        agent = httpx.post(stack.url("/v1/agents"), json={"name": "Live", "system_prompt": "x"}).json()
        session = httpx.post(stack.url("/v1/sessions"), json={"agent_id": agent["id"]}).json()
        streams = [LiveStream(stack, f"/v1/sessions/{session['id']}/sse") for _ in range(4)]
        for stream in streams:
            assert stream.events(1)[0]["event"] == "session.started"
        started = time.monotonic()
        os.killpg(stack.server.pid, signum)  # what Ctrl-C / a service manager does to the process group
        stack.server.wait(65)
        elapsed = time.monotonic() - started
        for stream in streams:
            stream.thread.join(5)
            frames = []
            while not stream.frames.empty():
                frames.append(stream.frames.get())
            assert frames and frames[-1] == {
                "event": "disconnecting",
                "retry": 100,
                "data": {"reason": "server_shutdown", "retry_ms": 100},
            }
        assert elapsed < 30, f"shutdown took {elapsed:.1f}s"  # far below the graceful timeout (60 s)
