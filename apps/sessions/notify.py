"""Waking the SSE streams of a session after an event commits (owned by the SSE work, issue 5).

`wake_on_commit(session_id)` is what writers call; how the wake-up travels (PostgreSQL NOTIFY,
in-process condition, SQLite polling) is this module's business.
"""

from django.db import transaction


def wake_on_commit(session_id) -> None:
    transaction.on_commit(lambda: wake(session_id))


def wake(session_id) -> None:
    """Placeholder until the streaming layer lands: streams poll."""
