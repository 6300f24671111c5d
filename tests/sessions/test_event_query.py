"""GET /v1/sessions/{id}/events: the published spec's filters and window (issue 21 item 4)."""

from datetime import timedelta

import pytest

from apps.core.ids import format_id

pytestmark = pytest.mark.django_db

INVALID = {"error": "Invalid request", "status": 400}


@pytest.fixture
def chat(api_client, make_agent):
    """A session with two finished turns: a plain answer, then a turn that calls get_current_time."""
    from apps.runtime.services import turn_run_pending

    agent = make_agent(capabilities=["current_time"])
    session = api_client.post("/v1/sessions", {"agent_id": format_id("agent", agent.public_id)}, format="json").json()
    url = f"/v1/sessions/{session['id']}"
    for text in ("Hello", "What time is it?\n/tool get_current_time {}"):
        message = {"message": {"role": "user", "content": [{"type": "text", "text": text}]}}
        assert api_client.post(f"{url}/messages", message, format="json").status_code == 201
        turn_run_pending(session_id=session["id"].removeprefix("session_"))
    return url


def events(client, url, **params) -> list[dict]:
    response = client.get(f"{url}/events", params)
    assert response.status_code == 200, response.content
    return response.json()["data"]


def test_sequence_window(api_client, chat):
    everything = events(api_client, chat)
    sequences = [e["sequence"] for e in everything]
    assert sequences == sorted(sequences) and len(sequences) > 10
    assert [e["sequence"] for e in events(api_client, chat, after_sequence=5)] == [s for s in sequences if s > 5]
    assert [e["sequence"] for e in events(api_client, chat, before_sequence=5)] == [1, 2, 3, 4]
    between = events(api_client, chat, after_sequence=3, before_sequence=8)
    assert [e["sequence"] for e in between] == [4, 5, 6, 7]
    # since_id and after_sequence together: the later cursor wins.
    since = everything[5]["id"]
    assert [e["sequence"] for e in events(api_client, chat, since_id=since, after_sequence=2)] == sequences[6:]


def test_limit_takes_the_last_n_oldest_first_with_a_total_header(api_client, chat):
    sequences = [e["sequence"] for e in events(api_client, chat)]
    response = api_client.get(f"{chat}/events", {"limit": 3})
    assert [e["sequence"] for e in response.json()["data"]] == sequences[-3:]
    non_delta = [e for e in events(api_client, chat) if not e["type"].endswith(".delta")]
    assert response["X-Total-Count"] == str(len(non_delta))
    page = events(api_client, chat, limit=2, before_sequence=sequences[-3])
    assert [e["sequence"] for e in page] == sequences[-5:-3]
    assert "X-Total-Count" not in api_client.get(f"{chat}/events").headers


def test_order_desc(api_client, chat):
    sequences = [e["sequence"] for e in events(api_client, chat)]
    assert [e["sequence"] for e in events(api_client, chat, order_desc="true")] == sequences[::-1]
    assert [e["sequence"] for e in events(api_client, chat, order_desc="true", limit=2)] == sequences[::-1][:2]


def test_turn_id_keeps_exactly_that_turns_events(api_client, chat):
    everything = events(api_client, chat)
    turn_ids = [e["data"]["turn_id"] for e in everything if e["type"] == "turn.started"]
    assert len(turn_ids) == 2
    second = events(api_client, chat, turn_id=turn_ids[1])
    assert second == [e for e in everything if e["context"].get("turn_id") == turn_ids[1]]
    assert {e["type"] for e in second} >= {"turn.started", "tool.completed", "turn.completed"}
    assert events(api_client, chat, turn_id=format_id("turn", __import__("uuid").uuid4())) == []


def test_tool_name_and_types(api_client, chat):
    everything = events(api_client, chat)
    tool_events = events(api_client, chat, tool_name="get_current_time")
    assert tool_events == [e for e in everything if e["data"].get("tool_name") == "get_current_time"]
    assert [e["type"] for e in tool_events] == ["tool.completed"]
    assert events(api_client, chat, tool_name="no_such_tool") == []
    turns = events(api_client, chat, types=["turn.started", "turn.completed"])
    assert [e["type"] for e in turns] == ["turn.started", "turn.completed"] * 2


def test_from_and_to_timestamps(api_client, chat):
    from apps.sessions.models import Event

    everything = events(api_client, chat)
    # Spread the events over time so a window can cut between them.
    for i, event in enumerate(Event.objects.order_by("sequence")):
        event.ts = event.ts.replace(year=2030) + timedelta(minutes=i)
        event.save(update_fields=["ts"])
    everything = events(api_client, chat)
    middle = everything[4]["ts"]
    later = everything[7]["ts"]
    window = events(api_client, chat, from_ts=middle, to_ts=later)
    assert [e["sequence"] for e in window] == [e["sequence"] for e in everything[4:8]]
    assert [e["sequence"] for e in events(api_client, chat, from_ts=later)] == [e["sequence"] for e in everything[7:]]
    # A `+01:00` offset in a query string (its `+` arrives as a space) is understood too.
    assert len(events(api_client, chat, to_ts="2030-01-01T00:00:00+01:00")) == 0


@pytest.mark.parametrize(
    "params",
    [
        {"limit": 0},
        {"limit": 1001},
        {"limit": "ten"},
        {"after_sequence": -1},
        {"before_sequence": "x"},
        {"order_desc": "sideways"},
        {"turn_id": "not-a-turn"},
        {"from_ts": "yesterday"},
        {"to_ts": "2030-01-01T00:00:00"},  # no offset: ambiguous
        {"tool_name": "t" * 201},
    ],
)
def test_bad_filters_are_400(api_client, chat, params):
    response = api_client.get(f"{chat}/events", params)
    assert response.status_code == 400
    assert response.json()["status"] == 400


@pytest.mark.parametrize("param", ["around", "window", "tags", "q"])
def test_unsupported_filters_are_refused_not_ignored(api_client, chat, param):
    response = api_client.get(f"{chat}/events", {param: "x"})
    assert response.json() == {"error": f"Unsupported event filter: {param}", "status": 400}


def test_event_queries_do_not_grow_with_events(api_client, chat, django_assert_max_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    params = {"limit": 5, "turn_id": events(api_client, chat, types="turn.started")[0]["data"]["turn_id"]}
    with CaptureQueriesContext(connection) as ctx:
        api_client.get(f"{chat}/events", params).json()
    baseline = len(ctx.captured_queries)
    from apps.runtime.services import turn_run_pending

    for i in range(5):
        message = {"message": {"role": "user", "content": [{"type": "text", "text": f"more {i}"}]}}
        api_client.post(f"{chat}/messages", message, format="json")
        turn_run_pending(session_id=chat.rsplit("_", 1)[1])
    with django_assert_max_num_queries(baseline):
        api_client.get(f"{chat}/events", params).json()
    with django_assert_max_num_queries(baseline):
        api_client.get(f"{chat}/events").json()
