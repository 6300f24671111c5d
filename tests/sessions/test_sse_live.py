"""SSE through a real server with writers in other processes (contract 5, architecture "path of one message").

A throwaway stack (bench/stack.py): a fresh database (SQLite file, or a new PostgreSQL database when
DATABASE_URL is set), migrations, and gunicorn with one gthread worker on 127.0.0.1. Events are
appended by a SECOND PROCESS (`manage.py shell -c`), so delivery crosses processes exactly as a
worker's events do: PostgreSQL LISTEN/NOTIFY, or polling with back-off on SQLite.
"""

import contextlib
import queue
import socket
import threading
import time

import httpx
import pytest

from bench.sseclient import FrameReader, HttpStreamDecoder, request_bytes
from bench.stack import Stack, cpu_seconds

pytestmark = pytest.mark.slow

THREADS = 8


@pytest.fixture(scope="module")
def stack():
    # DB_CONN_MAX_AGE=0 and no pool: ordinary requests close their connections, so the only ones left
    # open are what streams (should not) hold, plus the one LISTEN connection.
    env = {
        "SSE_HEARTBEAT_INTERVAL_SECS": "1",
        "SSE_CYCLE_SECS": "60",
        "WEB_CONCURRENCY": "1",
        "WEB_THREADS": str(THREADS),
        "DB_CONN_MAX_AGE": "0",
        "DB_POOL_MAX_SIZE": "0",
    }
    with Stack(env=env) as running:
        yield running


@pytest.fixture(scope="module")
def session_id(stack) -> str:
    agent = httpx.post(stack.url("/v1/agents"), json={"name": "Live", "system_prompt": "You help."}).json()
    session = httpx.post(stack.url("/v1/sessions"), json={"agent_id": agent["id"]})
    assert session.status_code == 201, session.text
    return session.json()["id"]


class LiveStream:
    """An SSE connection (raw socket, so closing it is immediate) read by a background thread into a queue."""

    def __init__(self, stack, path: str, headers: dict | None = None) -> None:
        self.frames: queue.Queue = queue.Queue()
        self.decoder = HttpStreamDecoder()
        self.sock = socket.create_connection(("127.0.0.1", stack.port), timeout=10)
        self.sock.sendall(request_bytes(path, headers))
        self.opened = threading.Event()
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()
        assert self.opened.wait(10), "no response headers"
        self.status = self.decoder.status

    def _read(self) -> None:
        reader = FrameReader()
        with contextlib.suppress(OSError):
            while data := self.sock.recv(65536):
                body = self.decoder.feed(data)
                if self.decoder.status is not None:
                    self.opened.set()
                for frame in reader.feed(body):
                    self.frames.put(frame)

    def events(self, count: int, timeout: float = 10) -> list[dict]:
        found: list[dict] = []
        deadline = time.monotonic() + timeout
        while len(found) < count:
            remaining = deadline - time.monotonic()
            assert remaining > 0, f"only {len(found)} of {count} events arrived: {found}"
            try:
                frame = self.frames.get(timeout=remaining)
            except queue.Empty:
                continue
            if "id" in frame:
                found.append(frame)
        return found

    def quiet_for(self, secs: float) -> list[dict]:
        """Domain events that arrive within `secs` (expected: none)."""
        time.sleep(secs)
        extra = []
        while not self.frames.empty():
            frame = self.frames.get()
            if "id" in frame:
                extra.append(frame)
        return extra

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)
        self.sock.close()
        self.thread.join(5)


def append_in_another_process(stack, session_id: str, count: int, start: int = 0) -> None:
    stack.shell(
        "from apps.core.ids import parse_id\n"
        "from apps.sessions.services import event_append\n"
        f"sid = parse_id('session', {session_id!r})\n"
        f"for i in range({start}, {start + count}):\n"
        "    event_append(session_id=sid, type='output.message.delta', data={'i': i})\n"
    )


def test_live_events_from_another_process_arrive_once_and_in_order(stack, session_id):
    stream = LiveStream(stack, f"/v1/sessions/{session_id}/sse")
    try:
        assert stream.status == 200
        assert stream.frames.get(timeout=5) == {"event": "connected", "data": {"status": "connected"}}
        replay = stream.events(1)
        assert replay[0]["event"] == "session.started"
        append_in_another_process(stack, session_id, 5)
        live = stream.events(5)
        assert [f["data"]["data"]["i"] for f in live] == [0, 1, 2, 3, 4]
        assert [f["data"]["sequence"] for f in live] == [2, 3, 4, 5, 6]
        assert stream.quiet_for(1.2) == []
    finally:
        stream.close()


def test_a_posted_message_reaches_an_open_stream(stack, session_id):
    stream = LiveStream(stack, f"/v1/sessions/{session_id}/sse?types=input.message")
    try:
        stream.quiet_for(0.3)  # drop the replay of earlier messages, if any
        body = {"message": {"content": [{"type": "text", "text": "hello"}]}}
        message = httpx.post(stack.url(f"/v1/sessions/{session_id}/messages"), json=body).json()
        (frame,) = stream.events(1, timeout=5)
        assert frame["data"]["data"]["message"] == message
    finally:
        stream.close()


def test_resume_with_last_event_id_after_writes_while_disconnected(stack, session_id):
    first = LiveStream(stack, f"/v1/sessions/{session_id}/sse")
    seen = first.events(1)
    first.close()
    total = httpx.get(stack.url(f"/v1/sessions/{session_id}/events")).json()["total"]
    append_in_another_process(stack, session_id, 3, start=100)
    second = LiveStream(stack, f"/v1/sessions/{session_id}/sse", {"Last-Event-ID": seen[-1]["id"]})
    try:
        resumed = second.events(total - 1 + 3)
        sequences = [f["data"]["sequence"] for f in resumed]
        assert sequences == list(range(2, total + 4))
        assert [f["data"]["data"].get("i") for f in resumed[-3:]] == [100, 101, 102]
        assert second.quiet_for(1.2) == []
    finally:
        second.close()


def test_clients_that_go_away_free_their_threads(stack, session_id):
    path = f"/v1/sessions/{session_id}/sse?types=turn.failed"
    streams = [LiveStream(stack, path) for _ in range(THREADS)]  # every worker thread is now a stream
    for stream in streams:
        assert stream.frames.get(timeout=5)["event"] == "connected"
        stream.close()
    # Each gone client is noticed at its stream's next wake-up (heartbeat: 1 s), freeing the thread:
    # THREADS - 1 new streams plus an ordinary request all get a thread within about a second.
    started = time.monotonic()
    again = [LiveStream(stack, path) for _ in range(THREADS - 1)]
    try:
        for stream in again:
            assert stream.frames.get(timeout=10)["event"] == "connected"
        assert httpx.get(stack.url("/health"), timeout=10).status_code == 200
        assert time.monotonic() - started < 9  # before the 10 s get() timeouts: not waiting for a slow path
    finally:
        for stream in again:
            stream.close()


def test_waiting_streams_hold_no_database_connection_and_no_cpu(stack, session_id):
    path = f"/v1/sessions/{session_id}/sse?types=turn.failed"
    streams = [LiveStream(stack, path) for _ in range(THREADS - 2)]
    try:
        for stream in streams:
            assert stream.frames.get(timeout=5)["event"] == "connected"
        time.sleep(0.5)
        (worker,) = stack.worker_pids()
        cpu_before = cpu_seconds([worker])
        time.sleep(2)
        # Polling (SQLite) costs a little; on PostgreSQL waiting streams sleep until NOTIFY or heartbeat.
        assert cpu_seconds([worker]) - cpu_before < 0.2
        if stack.vendor == "postgresql":
            import psycopg

            with psycopg.connect(stack.database_url.replace(stack.database_name, "postgres")) as conn:
                count = conn.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = %s", [stack.database_name]
                ).fetchone()[0]
            assert count == 1  # the worker's LISTEN connection, shared by all its streams
    finally:
        for stream in streams:
            stream.close()
