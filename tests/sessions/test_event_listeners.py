"""apps.sessions.events.event_listener_register: other apps' hook on appended events (apps.webhooks uses it)."""

import pytest
from django.db import transaction

from apps.agents.models import Agent
from apps.sessions import events
from apps.sessions.event_types import EventType
from apps.sessions.models import Session

pytestmark = pytest.mark.django_db


@pytest.fixture
def listeners(monkeypatch):
    monkeypatch.setattr(events, "_listeners", {})
    return events


def test_a_listener_sees_its_types_inside_the_appending_transaction(listeners, session):
    seen: list[tuple[str, int]] = []
    listeners.event_listener_register(
        types=[EventType.SESSION_IDLED], listener=lambda event: seen.append((event.type, event.sequence))
    )
    listeners.event_append(session_id=session.pk, type=EventType.FILE_CREATED, data={"path": "a"})
    appended = listeners.event_append(session_id=session.pk, type=EventType.SESSION_IDLED, data={})
    assert seen == [("session.idled", appended.sequence)]


def test_a_failing_listener_rolls_back_its_own_writes_and_the_event_goes_on(listeners, session):
    def broken(event):
        with transaction.atomic():  # listeners write in their own savepoint (the hook's contract)
            Agent.objects.filter(pk=session.agent_id).update(name="changed by a broken listener")
            raise RuntimeError("listener bug")

    listeners.event_listener_register(types=[EventType.SESSION_IDLED], listener=broken)
    listeners.event_append(session_id=session.pk, type=EventType.SESSION_IDLED, data={})
    assert Session.objects.get(pk=session.pk).last_sequence == 2  # session.started, session.idled
    assert Agent.objects.get(pk=session.agent_id).name != "changed by a broken listener"
