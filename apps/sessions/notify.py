"""Waking the SSE streams of a session when its events commit, in this process and in every other one.

Writers call `wake_on_commit(session_id)` inside their transaction (event_append does):

- in this process, waiting streams of the session are woken right after the commit
  (`transaction.on_commit`), so a rolled-back write never wakes anyone;
- on PostgreSQL the same call also issues `NOTIFY everruns_events, '<session hex>'` inside the
  transaction: PostgreSQL delivers it only when (and if) the transaction commits, to every
  listening connection on every machine. Each web process keeps ONE listening connection, in a
  daemon thread started the first time a stream waits (`ensure_listener`), and fans each
  notification out to its own streams through the in-process hub;
- on SQLite there is no cross-process signal: streams poll with back-off (see streaming.py) and
  the in-process wake-up still makes same-process writers instant.

A waiting stream is a `Waiter`: a threading.Event registered under its session. Waiting blocks
on the event (no CPU, no database connection); waking sets it.
"""

import contextlib
import logging
import os
import threading
import time
import uuid

from django.db import connection, connections, transaction

logger = logging.getLogger("everruns.sse")

CHANNEL = "everruns_events"


def notify_key(session_id) -> str:
    """Hub key and NOTIFY payload: the session UUID as 32 hex digits."""
    if isinstance(session_id, uuid.UUID):
        return session_id.hex
    return uuid.UUID(str(session_id)).hex


class Waiter:
    """One stream's wake-up flag for one session."""

    __slots__ = ("key", "event")

    def __init__(self, key: str) -> None:
        self.key = key
        self.event = threading.Event()

    def wait(self, timeout: float) -> bool:
        """Block until woken or `timeout` seconds pass; True when woken."""
        return self.event.wait(max(timeout, 0.0))

    def clear(self) -> None:
        self.event.clear()

    def is_set(self) -> bool:
        return self.event.is_set()


class Hub:
    """The process-wide registry of waiting streams, keyed by session."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._waiters: dict[str, set[Waiter]] = {}

    def subscribe(self, session_id) -> Waiter:
        waiter = Waiter(notify_key(session_id))
        with self._lock:
            self._waiters.setdefault(waiter.key, set()).add(waiter)
        return waiter

    def unsubscribe(self, waiter: Waiter) -> None:
        with self._lock:
            waiters = self._waiters.get(waiter.key)
            if waiters is not None:
                waiters.discard(waiter)
                if not waiters:
                    del self._waiters[waiter.key]

    def wake(self, key: str) -> int:
        """Wake every stream of one session (by hub key); returns how many were woken."""
        with self._lock:
            waiters = list(self._waiters.get(key, ()))
        for waiter in waiters:
            waiter.event.set()
        return len(waiters)

    def wake_all(self) -> None:
        """Wake everyone: after the listener reconnects, notifications may have been missed."""
        with self._lock:
            waiters = [w for group in self._waiters.values() for w in group]
        for waiter in waiters:
            waiter.event.set()

    def count(self) -> int:
        with self._lock:
            return sum(len(group) for group in self._waiters.values())


hub = Hub()


def uses_push() -> bool:
    """True when wake-ups cross processes (PostgreSQL LISTEN/NOTIFY); False means streams must poll."""
    return connection.vendor == "postgresql"


def wake_on_commit(session_id, *, notified: bool = False) -> None:
    """Wake the session's streams everywhere once the current transaction commits (never if it rolls back).

    `notified`: the caller already queued the PostgreSQL NOTIFY in a statement of its own (event_append does,
    in the statement that allocates the sequence); only the in-process wake-up is left to do.
    """
    key = notify_key(session_id)
    if connection.vendor == "postgresql" and not notified:
        # Queued by PostgreSQL with the transaction and delivered at commit; duplicates within
        # one transaction are folded into one notification by the server.
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_notify(%s, %s)", [CHANNEL, key])
    transaction.on_commit(lambda: hub.wake(key))


def wake(session_id) -> None:
    """Wake the session's streams now (outside a transaction this is immediate on PostgreSQL too)."""
    if transaction.get_connection().in_atomic_block:
        wake_on_commit(session_id)
        return
    key = notify_key(session_id)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_notify(%s, %s)", [CHANNEL, key])
    hub.wake(key)


# --------------------------------------------------------------------------- the PostgreSQL listener
class Listener:
    """One LISTEN connection per process, in a daemon thread, fanning notifications out to `hub`.

    The connection is made with Django's own connection parameters (so tests reach the test
    database) but outside Django's connection handling, in autocommit mode. On any error it
    reconnects with back-off and then wakes every stream, since notifications sent while it was
    away are lost (streams re-read the database when woken, so a spurious wake-up is harmless).
    """

    idle_check_secs = 30.0

    def __init__(self, target_hub: Hub) -> None:
        self.hub = target_hub
        self.ready = threading.Event()
        self._thread: threading.Thread | None = None
        self._pid: int | None = None
        self._lock = threading.Lock()
        self._stop = threading.Event()

    def ensure_started(self) -> None:
        # A forked child (gunicorn worker) does not inherit the parent's thread: start its own.
        if self._thread is not None and self._pid == os.getpid() and self._thread.is_alive():
            return
        with self._lock:
            if self._thread is not None and self._pid == os.getpid() and self._thread.is_alive():
                return
            self.ready.clear()
            self._stop.clear()
            self._pid = os.getpid()
            self._thread = threading.Thread(target=self._run, name="everruns-sse-listener", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        """Stop the thread (tests); it exits at its next idle check."""
        self._stop.set()

    def _connect(self):
        wrapper = connections["default"]
        # A dedicated connection, never one of the process's pool (DB_POOL_MAX_SIZE): get_new_connection()
        # would take a pool slot for the life of the process, and leak one more at every reconnect (a
        # pooled connection closed instead of put back is still counted by the pool).
        raw = wrapper.Database.connect(  # type: ignore[attr-defined]  # the backend module, set by each backend
            **wrapper.get_connection_params()
        )
        raw.autocommit = True
        raw.execute(f"LISTEN {CHANNEL}")
        return raw

    def _run(self) -> None:
        backoff = 0.2
        while not self._stop.is_set():
            raw = None
            try:
                raw = self._connect()
                self.hub.wake_all()
                self.ready.set()
                backoff = 0.2
                while not self._stop.is_set():
                    for notification in raw.notifies(timeout=self.idle_check_secs):
                        self.hub.wake(notification.payload)
                    # No traffic for a while: make sure the connection is still alive.
                    raw.execute("SELECT 1")
            except Exception as exc:  # any driver/network error: reconnect
                self.ready.clear()
                logger.warning("SSE listener connection lost (%s); reconnecting in %.1fs", type(exc).__name__, backoff)
                time.sleep(backoff)
                backoff = min(backoff * 2, 5.0)
            finally:
                if raw is not None:
                    with contextlib.suppress(Exception):  # closing a broken connection may fail too
                        raw.close()
            if self._stop.is_set():
                break
        self.ready.clear()


listener = Listener(hub)


def ensure_listener() -> None:
    """Start this process's LISTEN thread if the database supports push (PostgreSQL)."""
    if uses_push():
        listener.ensure_started()
