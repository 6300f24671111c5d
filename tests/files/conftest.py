"""Fixtures of the session-filesystem tests: sessions created directly (their own API is tested in tests/sessions)."""

import pytest

from apps.core.ids import format_id


@pytest.fixture
def make_session(default_org):
    """make_session(org=default_org) -> a Session with a throwaway agent."""
    from apps.agents.models import Agent
    from apps.sessions.models import Session

    def _make(org=None):
        org = org or default_org
        agent = Agent.objects.create(organization=org, name="Files agent", system_prompt="You keep notes.")
        return Session.objects.create(organization=org, agent=agent)

    return _make


@pytest.fixture
def session(make_session):
    return make_session()


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
