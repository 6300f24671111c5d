"""Server-Sent Events for a session (contract 5): the frame format and the stream loop.

Framing lives in `frame()` and nowhere else. The loop (`EventStream.frames`) is:

    connected -> replay stored events after the cursor (in batches) -> wait -> new events -> wait …
    -> `disconnecting` after SSE_CYCLE_SECS, with `: heartbeat` every SSE_HEARTBEAT_INTERVAL_SECS.

While it waits a stream holds no database connection (closed after every read) and no CPU (it
blocks on its hub `Waiter`). It is woken by `apps.sessions.notify`: PostgreSQL NOTIFY through
the process's listener thread, or an in-process commit. Without a live listener (SQLite, or
PostgreSQL while the listener reconnects) it polls with back-off (100 ms doubling to 500 ms).
Every wake-up re-reads the database from the cursor, so a spurious wake-up never repeats an
event and order and exactly-once come from the cursor (`sequence`, gapless and committed in
order), not from the wake-up; the listener wakes every stream after reconnecting, since
notifications sent while it was away are lost.

A client that went away is noticed at the next write (the WSGI server then closes this
generator) or, earlier, at the next wake-up by peeking the client socket when the server
exposes it (gunicorn's `gunicorn.socket`); heartbeats bound both to one heartbeat interval.
"""

import json
import select
import socket
import ssl
import threading
import time
import uuid
from collections.abc import Callable, Iterator

from django.conf import settings
from django.db import connection

from apps.core import metrics

from .events import EventFilter, event_to_dict
from .models import Session
from .notify import ensure_listener, hub, listener, uses_push
from .selectors import event_list

RETRY_MIN_MS = 100
RETRY_MAX_MS = 500


# --------------------------------------------------------------------------- framing
def frame(*, data: str | dict, event: str | None = None, id: str | None = None, retry: int | None = None) -> bytes:
    """One SSE frame: `event:`, `id:`, `retry:`, then `data:` (one line per line of data), blank line.

    A dict is encoded as compact one-line JSON (the contract's `data:` is the complete Event JSON).
    """
    if isinstance(data, dict):
        data = json.dumps(data, separators=(",", ":"), ensure_ascii=False)
    lines = []
    if event is not None:
        lines.append(f"event: {_single_line(event)}")
    if id is not None:
        lines.append(f"id: {_single_line(id)}")
    if retry is not None:
        lines.append(f"retry: {int(retry)}")
    lines.extend(f"data: {line}" for line in data.replace("\r\n", "\n").replace("\r", "\n").split("\n"))
    return ("\n".join(lines) + "\n\n").encode()


def comment(text: str) -> bytes:
    """An SSE comment line (ignored by clients, keeps proxies and read timeouts happy)."""
    return f": {_single_line(text)}\n\n".encode()


def _single_line(value: str) -> str:
    # A newline inside a field would start a new field: the one way to corrupt the framing.
    return str(value).replace("\r", " ").replace("\n", " ")


CONNECTED = frame(event="connected", data={"status": "connected"})
DISCONNECTING = frame(event="disconnecting", retry=RETRY_MIN_MS, data={"reason": "connection_cycle", "retry_ms": 100})
SHUTDOWN_DISCONNECTING = frame(
    event="disconnecting", retry=RETRY_MIN_MS, data={"reason": "server_shutdown", "retry_ms": 100}
)

# Set when this process is shutting down (gunicorn.conf.py calls shutdown_streams from the worker's signal
# handlers): every open stream sends `disconnecting` and ends at once, so the worker exits well within
# graceful_timeout and clients reconnect (to another worker) with their cursor instead of being cut off.
shutting_down = threading.Event()


def shutdown_streams() -> None:
    """End every open stream of this process promptly (each sends `disconnecting` first)."""
    shutting_down.set()
    hub.wake_all()


HEARTBEAT = comment("heartbeat")


def event_frame(event) -> bytes:
    """An event's frame. `retry:` is always 100 on events (contract 5.2: 100 while events flow): the
    back-off of an idle stream is reset by the event being sent, as in the reference's polling loop."""
    body = event_to_dict(event)
    return frame(event=body["type"], id=body["id"], retry=RETRY_MIN_MS, data=body)


# --------------------------------------------------------------------------- database access
_db_slots: threading.BoundedSemaphore | None = None
_db_slots_lock = threading.Lock()


def _slots() -> threading.BoundedSemaphore:
    """Caps concurrent database reads by streams per process: a wake-up of 1,000 streams must not
    open 1,000 connections at once (PostgreSQL's default max_connections is 100)."""
    global _db_slots
    if _db_slots is None:
        with _db_slots_lock:
            if _db_slots is None:
                _db_slots = threading.BoundedSemaphore(settings.SSE_DB_CONCURRENCY)
    return _db_slots


def release_db_connection() -> None:
    """Close this thread's connection so a waiting stream holds none.

    Inside a transaction (only tests run the stream inside one) closing would break it, so keep it.
    """
    if not connection.in_atomic_block:
        connection.close()


def client_gone(sock) -> bool:
    """True when the peer has closed the connection (a readable socket with nothing to read)."""
    if sock is None or isinstance(sock, ssl.SSLSocket):
        return False
    try:
        poller = select.poll()
        poller.register(sock, select.POLLIN | select.POLLHUP | select.POLLERR)
        ready = poller.poll(0)
        if not ready:
            return False
        if ready[0][1] & (select.POLLHUP | select.POLLERR):
            return True
        return sock.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) == b""
    except BlockingIOError:
        return False
    except (OSError, ValueError):
        return True


# --------------------------------------------------------------------------- the stream
class EventStream:
    """One client's stream of one session's events."""

    batch_size = 500
    poll_min_secs = RETRY_MIN_MS / 1000
    poll_max_secs = RETRY_MAX_MS / 1000

    def __init__(
        self,
        *,
        session_id: uuid.UUID,
        after_sequence: int,
        event_filter: EventFilter,
        heartbeat_secs: float | None = None,
        cycle_secs: float | None = None,
        push: bool | None = None,
        client_socket=None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.session_id = session_id
        self.after_sequence = after_sequence
        self.event_filter = event_filter
        self.heartbeat_secs = heartbeat_secs if heartbeat_secs is not None else settings.SSE_HEARTBEAT_INTERVAL_SECS
        self.cycle_secs = cycle_secs if cycle_secs is not None else settings.SSE_CYCLE_SECS
        self.push = uses_push() if push is None else push
        self.client_socket = client_socket
        self.clock = clock

    def frames(self) -> Iterator[bytes]:
        """The response body. Closing the generator (client gone, server stop) unregisters the stream."""
        # The view's queries (auth, session, cursor) are done: give their connection back before anything
        # can wait. Otherwise a stream would wait for a read slot (_slots) holding a pooled connection
        # while a slot holder waits for a connection from the exhausted pool: during a connect storm
        # every pooled connection ended up held that way, and reads and new streams failed with
        # PoolTimeout (503) after DB_POOL_TIMEOUT_SECS. Every read now takes the slot first, then a
        # connection, and holds neither while it waits.
        release_db_connection()
        yield CONNECTED
        if shutting_down.is_set():
            yield SHUTDOWN_DISCONNECTING
            return
        waiter = hub.subscribe(self.session_id)
        if self.push:
            ensure_listener()
        try:
            with metrics.sse_streams():  # everruns_sse_streams_open
                yield from self._loop(waiter)
        finally:
            hub.unsubscribe(waiter)
            release_db_connection()

    def _loop(self, waiter) -> Iterator[bytes]:
        start = self.clock()
        deadline = start + self.cycle_secs
        next_heartbeat = start + self.heartbeat_secs
        poll = self.poll_min_secs
        woken, read = False, True
        while True:
            if read:
                # Cleared before reading: a wake-up that lands during the read is kept for the wait below.
                waiter.clear()
                rows, session_exists = self._read(check_session=woken)
                if not session_exists:
                    return
                if rows:
                    for event in rows:
                        yield event_frame(event)
                    self.after_sequence = rows[-1].sequence
                    poll = self.poll_min_secs
                    if len(rows) == self.batch_size:
                        continue  # more stored events to replay
            now = self.clock()
            if shutting_down.is_set():
                yield SHUTDOWN_DISCONNECTING
                return
            if now >= deadline:
                yield DISCONNECTING
                return
            if now >= next_heartbeat:
                if client_gone(self.client_socket):
                    return
                yield HEARTBEAT
                while next_heartbeat <= now:
                    next_heartbeat += self.heartbeat_secs
            # With a live LISTEN connection every commit wakes us: wait for it (or the next heartbeat)
            # and read only when woken. Without one (SQLite, or the listener reconnecting) poll.
            pushed = self.push and listener.ready.is_set()
            timeout = min(next_heartbeat, deadline) - now
            if not pushed:
                timeout = min(timeout, poll)
            woken = waiter.wait(timeout)
            if shutting_down.is_set():
                yield SHUTDOWN_DISCONNECTING
                return
            if woken and client_gone(self.client_socket):
                return
            read = woken or not pushed
            if not woken and not pushed:
                poll = min(poll * 2, self.poll_max_secs)

    def _read(self, *, check_session: bool) -> tuple[list, bool]:
        """New visible events after the cursor (one batch); whether the session still exists."""
        with _slots():
            try:
                rows = list(
                    event_list(
                        session_id=self.session_id, event_filter=self.event_filter, after_sequence=self.after_sequence
                    )[: self.batch_size]
                )
                exists = True
                if not rows and check_session:
                    # Woken with nothing new: the session may have been deleted (deletion wakes streams).
                    exists = Session.objects.filter(pk=self.session_id).exists()
                return rows, exists
            finally:
                release_db_connection()
