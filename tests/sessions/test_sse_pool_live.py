"""SSE streams next to the web process's PostgreSQL pool (DB_POOL_MAX_SIZE), through a real gunicorn.

Two defects made 1,000-stream connect storms fail with PoolTimeout 503s (docs/benchmarks.md, SSE):
the LISTEN thread took a pooled connection for the life of the process, and a new stream waited
for a read slot (SSE_DB_CONCURRENCY) while still holding its request's pooled connection, so slot
holders and connection holders waited for each other until DB_POOL_TIMEOUT_SECS. Tiny pools make
both show up with a handful of streams.
"""

import json
import os
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from bench.sse import SEED  # one session per stream, ids as hex
from bench.sseclient import FrameReader, HttpStreamDecoder, request_bytes
from bench.stack import ROOT, Stack

pytestmark = pytest.mark.slow


@pytest.fixture(autouse=True)
def _postgres_only():
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        pytest.skip("needs PostgreSQL (set DATABASE_URL): the pool is PostgreSQL-only")


class Stream:
    """One raw-socket SSE connection read by a thread: status, whether `connected` came, event ids."""

    def __init__(self, port: int, session_hex: str) -> None:
        self.ids: set[str] = set()
        self.connected = threading.Event()
        self.ended = threading.Event()
        self.decoder = HttpStreamDecoder()
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=30)
        self.sock.sendall(request_bytes(f"/v1/sessions/session_{session_hex}/sse"))
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        frames = FrameReader()
        try:
            while data := self.sock.recv(65536):
                for frame in frames.feed(self.decoder.feed(data)):
                    if frame.get("event") == "connected":
                        self.connected.set()
                    elif "id" in frame:
                        self.ids.add(frame["id"])
        except OSError:
            pass
        finally:
            self.ended.set()

    def close(self) -> None:
        self.sock.close()


def test_the_listen_connection_is_not_taken_from_the_pool():
    # A pool of ONE connection: if the process's LISTEN thread took it, every request after the first
    # stream would wait DB_POOL_TIMEOUT_SECS and answer 503.
    env = {"WEB_CONCURRENCY": "1", "WEB_THREADS": "8", "DB_POOL_MAX_SIZE": "1", "DB_POOL_TIMEOUT_SECS": "2"}
    with Stack(env=env) as stack:
        [session_hex] = json.loads(stack.shell(SEED.format(count=1)))
        stream = Stream(stack.port, session_hex)
        try:
            assert stream.connected.wait(10), stream.decoder.status
            time.sleep(0.5)  # the listener thread has connected by now
            for _ in range(3):
                response = httpx.get(stack.url("/v1/sessions"), timeout=10)
                assert response.status_code == 200, response.text
            event_hex = stack.shell(
                "from apps.sessions.services import event_append\n"
                f"print(event_append(session_id='{session_hex}', type='output.message.delta', "
                "data={'delta': 'x', 'accumulated': 'x'}).id.hex)"
            ).strip()
            deadline = time.monotonic() + 5
            while f"event_{event_hex}" not in stream.ids and time.monotonic() < deadline:
                time.sleep(0.05)
            assert f"event_{event_hex}" in stream.ids
        finally:
            stream.close()


def test_a_connect_storm_while_events_flow_needs_no_more_than_the_pool():
    # 2 pooled connections, 1 read slot, 40 streams opening at once while a writer process appends to
    # their sessions (every append wakes a stream, whose read needs the slot, then a connection).
    streams_count = 40
    env = {
        "WEB_CONCURRENCY": "1",
        "WEB_THREADS": "64",
        "DB_POOL_MAX_SIZE": "2",
        "DB_POOL_TIMEOUT_SECS": "3",
        "SSE_DB_CONCURRENCY": "1",
    }
    with Stack(env=env) as stack:
        session_hexes = json.loads(stack.shell(SEED.format(count=streams_count)))
        ids_file = stack.tmp / "sessions.json"
        ids_file.write_text(json.dumps(session_hexes))
        writer = stack.popen_python(str(ROOT / "bench" / "_writer.py"), str(ids_file), "100", "6")
        streams: list[Stream] = []
        try:
            time.sleep(0.5)  # events are flowing
            with ThreadPoolExecutor(streams_count) as pool:
                streams = list(pool.map(lambda session_hex: Stream(stack.port, session_hex), session_hexes))
            for stream in streams:
                assert stream.connected.wait(10), f"status {stream.decoder.status}"
            stdout, stderr = writer.communicate(timeout=60)
            assert writer.returncode == 0, stderr[-2000:]
            written = [event_hex for event_hex, _ in json.loads(stdout)["events"]]
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline and sum(len(s.ids) for s in streams) < len(written):
                time.sleep(0.05)
            # Each stream replays its session's log from the start: every event reaches exactly its stream.
            delivered = {event_id for stream in streams for event_id in stream.ids}
            missing = {f"event_{event_hex}" for event_hex in written} - delivered
            assert not missing, f"{len(missing)} of {len(written)} events not delivered"
            assert not any(stream.ended.is_set() for stream in streams)
        finally:
            if writer.poll() is None:
                writer.kill()
            for stream in streams:
                stream.close()
