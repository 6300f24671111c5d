"""GET /v1/sessions/{id}/events (contract 2.6, 3.5) and the event log's sequence guarantee."""

import pytest

from apps.core.ids import format_id
from apps.sessions.events import KNOWN_EVENT_TYPES
from apps.sessions.services import event_append

pytestmark = pytest.mark.django_db


@pytest.fixture
def events(session):
    """session.started (1) then 6 more events."""
    types = [
        "input.message",
        "session.activated",
        "turn.started",
        "output.message.delta",
        "tool.completed",
        "session.idled",
    ]
    return [event_append(session_id=session.pk, type=t, data={"n": i}) for i, t in enumerate(types, start=2)]


def listed(api_client, session_url, query=""):
    response = api_client.get(session_url + "/events" + query)
    assert response.status_code == 200, response.json()
    return response.json()


CONTRACT_EVENT_TYPES = {
    "session.started",
    "input.message",
    "session.activated",
    "turn.started",
    "reason.started",
    "output.message.started",
    "output.message.delta",
    "reason.thinking.started",
    "reason.thinking.delta",
    "reason.thinking.completed",
    "llm.generation",
    "output.message.completed",
    "reason.completed",
    "act.started",
    "tool.started",
    "tool.completed",
    "act.completed",
    "turn.completed",
    "turn.failed",
    "turn.cancelled",
    "session.idled",
}


def test_known_event_types_include_the_21_of_the_contract_but_not_sse_framing():
    assert len(CONTRACT_EVENT_TYPES) == 21
    assert set(KNOWN_EVENT_TYPES) >= CONTRACT_EVENT_TYPES
    assert len(KNOWN_EVENT_TYPES) == len(set(KNOWN_EVENT_TYPES))
    assert not {"connected", "disconnecting"} & set(KNOWN_EVENT_TYPES)


def test_list_is_the_whole_log_in_sequence_order(api_client, session, session_url, events):
    body = listed(api_client, session_url)
    assert body["total"] == 7
    assert [e["sequence"] for e in body["data"]] == list(range(1, 8))
    event = body["data"][1]
    assert set(event) == {"id", "type", "ts", "session_id", "sequence", "context", "data"}
    assert event["id"] == format_id("event", events[0].id)
    assert event["session_id"] == format_id("session", session.pk)
    assert event["type"] == "input.message"
    assert event["ts"].endswith("Z") and len(event["ts"]) == len("2024-01-15T10:30:00.000Z")
    assert event["context"] == {} and event["data"] == {"n": 2}


def test_metadata_and_tags_appear_when_set(api_client, session, session_url):
    event_append(session_id=session.pk, type="turn.started", metadata={"k": "v"}, tags=["x"])
    event = listed(api_client, session_url, "?types=turn.started")["data"][0]
    assert event["metadata"] == {"k": "v"} and event["tags"] == ["x"]


def test_since_id_is_exclusive(api_client, session_url, events):
    body = listed(api_client, session_url, f"?since_id={format_id('event', events[2].id)}")
    assert [e["sequence"] for e in body["data"]] == [5, 6, 7]
    last = format_id("event", events[-1].id)
    assert listed(api_client, session_url, f"?since_id={last}") == {"data": [], "total": 0}


def test_types_and_exclude(api_client, session_url, events):
    only = listed(api_client, session_url, "?types=turn.started&types=session.idled")
    assert [e["type"] for e in only["data"]] == ["turn.started", "session.idled"]
    comma = listed(api_client, session_url, "?types=turn.started,session.idled")
    assert comma == only
    excluded = listed(api_client, session_url, "?exclude=output.message.delta&exclude=session.started")
    assert "output.message.delta" not in [e["type"] for e in excluded["data"]]
    assert excluded["total"] == 5
    # exclude applies after types
    both = listed(api_client, session_url, "?types=turn.started&types=session.idled&exclude=session.idled")
    assert [e["type"] for e in both["data"]] == ["turn.started"]


def test_legacy_type_spellings_are_accepted_in_filters(api_client, session_url, events):
    body = listed(api_client, session_url, "?types=tool.call_completed&types=message.user")
    assert [e["type"] for e in body["data"]] == ["input.message", "tool.completed"]


def test_internal_event_types_are_never_listed(api_client, session, session_url):
    event_append(session_id=session.pk, type="internal.checkpoint")
    assert [e["type"] for e in listed(api_client, session_url)["data"]] == ["session.started"]


@pytest.mark.parametrize(
    ("query", "error"),
    [
        ("?types=nope", "Unknown event type: nope"),
        ("?exclude=connected", "Unknown event type: connected"),
        ("?types=" + "&types=".join(["turn.started"] * 26), "Too many values for types (max 25)"),
        ("?exclude=" + ",".join(["turn.started"] * 26), "Too many values for exclude (max 25)"),
        ("?since_id=garbage", "Invalid request"),
        ("?since_id=session_" + "0" * 32, "Invalid request"),
        ("?since_id=event_" + "0" * 31 + "1", "Unknown since_id"),
    ],
)
def test_bad_filters_are_400(api_client, session_url, events, query, error):
    response = api_client.get(session_url + "/events" + query)
    assert response.status_code == 400
    assert response.json() == {"error": error, "status": 400}


def test_since_id_of_another_session_is_unknown(api_client, session_url, make_session):
    other = make_session()
    foreign_event = other.events.get()
    response = api_client.get(session_url + f"/events?since_id={format_id('event', foreign_event.id)}")
    assert response.json() == {"error": "Unknown since_id", "status": 400}


def test_sequences_are_gapless_for_sequential_writers(session):
    for i in range(50):
        event_append(session_id=session.pk, type="output.message.delta", data={"i": i})
    assert list(session.events.order_by("sequence").values_list("sequence", flat=True)) == list(range(1, 52))


def test_a_rolled_back_append_gives_its_sequence_back(session):
    from django.db import transaction

    with pytest.raises(RuntimeError), transaction.atomic():
        event_append(session_id=session.pk, type="turn.started")
        raise RuntimeError("boom")
    event = event_append(session_id=session.pk, type="turn.started")
    assert event.sequence == 2


def test_messages_in_event_data_carry_their_event_sequence(session):
    event = event_append(
        session_id=session.pk,
        type="output.message.completed",
        data={"message": {"id": "message_x", "role": "agent", "content": []}},
    )
    assert event.data["message"]["sequence"] == event.sequence
    assert event.data["message"]["session_id"] == format_id("session", session.pk)


def test_event_list_streams_past_one_chunk_with_filters(api_client, session, session_url):
    for i in range(1100):
        event_append(session_id=session.pk, type="output.message.delta", data={"i": i})
    response = api_client.get(session_url + "/events?types=output.message.delta")
    assert response.status_code == 200 and response.streaming
    body = response.json()
    assert body["total"] == 1100 and [e["data"]["i"] for e in body["data"]] == list(range(1100))
    after = body["data"][599]["id"]
    rest = api_client.get(session_url + f"/events?since_id={after}").json()
    assert rest["total"] == 500 and rest["data"][0]["data"] == {"i": 600}
    assert api_client.get(session_url + "/events?types=bogus").status_code == 400  # checked before streaming
