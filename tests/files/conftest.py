"""Fixtures of the session-filesystem tests (sessions come from tests/conftest.py)."""

import pytest

from apps.core.ids import format_id


@pytest.fixture
def fs(session):
    """fs(path="") -> the URL of `path` in the default session's filesystem (`fs("_/grep")` for actions)."""

    def _url(path: str = "", target=None) -> str:
        base = f"/v1/sessions/{format_id('session', (target or session).pk)}/fs"
        return f"{base}/{path.removeprefix('/')}" if path else base

    return _url


@pytest.fixture
def events(session):
    """events(prefix="file.") -> [(type, data)] appended to the default session, in sequence order."""
    from apps.sessions.models import Event

    def _list(prefix: str = "file.") -> list[tuple[str, dict]]:
        rows = Event.objects.filter(session=session, type__startswith=prefix).order_by("sequence")
        return [(row.type, row.data) for row in rows]

    return _list
