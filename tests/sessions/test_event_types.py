"""The event type registry: one place, an unregistered type is refused, stored payloads match it."""

import pytest

from apps.sessions.event_types import (
    EVENT_SPECS,
    LIFECYCLE_EVENT_TYPES,
    PUBLIC_EVENT_TYPES,
    EventType,
    UnregisteredEventType,
)
from apps.sessions.events import KNOWN_EVENT_TYPES
from apps.sessions.models import Event
from apps.sessions.services import event_append

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("bad", ["turn.strated", "session.idle", "", "Turn.Started", "file.renamed"])
def test_appending_an_unregistered_type_raises_and_writes_nothing(session, bad):
    before = list(Event.objects.filter(session=session).values_list("sequence", "type"))
    with pytest.raises(UnregisteredEventType, match="unregistered event type"):
        event_append(session_id=session.pk, type=bad, data={})
    assert list(Event.objects.filter(session=session).values_list("sequence", "type")) == before
    session.refresh_from_db()
    assert session.last_sequence == len(before)  # no sequence number was spent


def test_a_registered_type_is_accepted_as_member_or_string(session):
    assert event_append(session_id=session.pk, type=EventType.TOOL_STARTED, data={}).type == "tool.started"
    assert event_append(session_id=session.pk, type="tool.started", data={}).type == "tool.started"
    assert Event.objects.filter(session=session, type="tool.started").count() == 2


def test_every_type_has_its_spec_and_the_public_list_is_the_filter_vocabulary():
    assert set(EVENT_SPECS) == set(EventType)
    assert KNOWN_EVENT_TYPES == PUBLIC_EVENT_TYPES
    assert "internal.checkpoint" not in KNOWN_EVENT_TYPES
    assert {t.value for t in LIFECYCLE_EVENT_TYPES} == {
        t.value for t in EventType if t.value.startswith(("session.", "turn."))
    }
    assert EventType.TURN_FAILED.fields == ("turn_id", "error", "error_code")


def test_a_turn_stores_only_registered_payload_fields(api_client, make_agent):
    """A turn that calls a tool, then a cancelled one: every stored event's data keys are its registered fields."""
    from apps.core.ids import format_id, parse_id
    from apps.runtime.services import turn_run_pending

    agent = make_agent(capabilities=[{"ref": "current_time"}])
    session_id = api_client.post(
        "/v1/sessions", {"agent_id": format_id("agent", agent.public_id)}, format="json"
    ).json()["id"]
    url = f"/v1/sessions/{session_id}"
    text = "What time is it?\n/tool get_current_time {}"
    body = {"message": {"role": "user", "content": [{"type": "text", "text": text}]}}
    assert api_client.post(f"{url}/messages", body, format="json").status_code == 201
    turn_run_pending(session_id=parse_id("session", session_id))
    assert api_client.post(f"{url}/messages", body, format="json").status_code == 201
    assert api_client.post(f"{url}/cancel").status_code == 200
    turn_run_pending(session_id=parse_id("session", session_id))

    stored = list(Event.objects.filter(session_id=parse_id("session", session_id)).order_by("sequence"))
    types = {e.type for e in stored}
    assert {"tool.completed", "turn.completed", "turn.cancelled", "session.idled"} <= types
    for event in stored:
        assert set(event.data) <= set(EventType(event.type).fields), event.type
