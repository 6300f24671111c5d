"""Concurrent writers and cross-connection wake-ups on PostgreSQL (real transactions, committed data).

These tests run writers in threads, each with its own database connection and its own committed
transactions, so they need PostgreSQL (SQLite's in-memory test database serialises everything
behind the test's own transaction). They create their own organization (committed) and
delete it afterwards instead of relying on a flush.
"""

import threading
import uuid

import pytest
from django.db import connection, transaction

from tests.sessions.pg import in_thread

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


@pytest.fixture(autouse=True)
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (set DATABASE_URL)")


def test_concurrent_writers_get_unique_gapless_sequences(committed_session):
    from apps.sessions.models import Event
    from apps.sessions.services import event_append

    writers, per_writer = 8, 40
    barrier = threading.Barrier(writers)
    errors: list[BaseException] = []

    def write(writer: int) -> None:
        try:
            barrier.wait()
            for i in range(per_writer):
                if i % 10 == 9:
                    # A writer that appends, then rolls back: its numbers must be given back.
                    try:
                        with transaction.atomic():
                            event_append(session_id=committed_session, type="turn.started", data={"w": writer})
                            raise RuntimeError("rollback")
                    except RuntimeError:
                        pass
                    continue
                if i % 5 == 0:
                    with transaction.atomic():  # two appends in one transaction
                        event_append(session_id=committed_session, type="output.message.delta", data={"w": writer})
                        event_append(session_id=committed_session, type="output.message.delta", data={"w": writer})
                else:
                    event_append(session_id=committed_session, type="output.message.delta", data={"w": writer})
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=write, args=(w,)) for w in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []

    def read():
        return list(
            Event.objects.filter(session_id=committed_session).order_by("sequence").values_list("sequence", "data")
        )

    rows = in_thread(read)
    # Per writer: 4 rolled back, 8 double appends (i % 5 == 0 and not i % 10 == 9), 28 single.
    expected = 1 + writers * (8 * 2 + 28)
    assert [seq for seq, _ in rows] == list(range(1, expected + 1))
    assert all(data.get("w") is not None for _, data in rows[1:])


def test_listener_fans_a_notify_from_another_connection_out_to_waiters():
    from apps.sessions.notify import CHANNEL, hub, listener

    listener.ensure_started()
    assert listener.ready.wait(10)
    key = uuid.uuid4().hex
    waiter = hub.subscribe(key)
    other = hub.subscribe(uuid.uuid4().hex)
    try:

        def notify():
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_notify(%s, %s)", [CHANNEL, key])

        in_thread(notify)
        assert waiter.wait(5) is True
        assert other.is_set() is False
    finally:
        hub.unsubscribe(waiter)
        hub.unsubscribe(other)


def test_a_committed_append_wakes_streams_through_postgres_and_a_rolled_back_one_does_not(committed_session):
    from apps.sessions.notify import hub, listener
    from apps.sessions.services import event_append

    listener.ensure_started()
    assert listener.ready.wait(10)
    waiter = hub.subscribe(committed_session)
    try:
        # The fixture's own commit (session.started) notifies too: let that one arrive first.
        waiter.wait(0.5)
        waiter.clear()

        def rolled_back():
            try:
                with transaction.atomic():
                    event_append(session_id=committed_session, type="turn.started")
                    raise RuntimeError("rollback")
            except RuntimeError:
                pass

        in_thread(rolled_back)
        assert waiter.wait(0.5) is False
        in_thread(lambda: event_append(session_id=committed_session, type="turn.started"))
        assert waiter.wait(5) is True
    finally:
        hub.unsubscribe(waiter)
