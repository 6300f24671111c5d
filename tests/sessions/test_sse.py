"""GET /v1/sessions/{id}/sse (contract 5), driven in-process through the test client.

The stream generator runs in the test thread: it reads frames until the wanted ones arrive. Timing
knobs are set small (heartbeat 0.1 s, cycle 0.6 s) so heartbeats and the cycle happen quickly.
Cross-process delivery through a real server is in test_sse_live.py.
"""

import time

import pytest

from apps.core.ids import format_id
from apps.sessions.notify import hub
from apps.sessions.services import event_append
from bench.sseclient import FrameReader

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fast_stream(settings):
    settings.SSE_HEARTBEAT_INTERVAL_SECS = 0.1
    settings.SSE_CYCLE_SECS = 0.6


class Stream:
    """A connected stream: iterate frames, skip heartbeats on request, close at the end."""

    def __init__(self, response):
        self.response = response
        # The test client's closing wrapper around our generator (streaming_content maps over it).
        self.body = response._iterator
        self.chunks = iter(response.streaming_content)
        self.reader = FrameReader()
        self.pending: list[dict] = []

    def next_frame(self) -> dict | None:
        while not self.pending:
            try:
                chunk = next(self.chunks)
            except StopIteration:
                return None
            self.pending.extend(self.reader.feed(chunk))
        return self.pending.pop(0)

    def events(self, count: int, timeout: float = 5) -> list[dict]:
        """The next `count` domain-event frames (heartbeats skipped)."""
        found: list[dict] = []
        deadline = time.monotonic() + timeout
        while len(found) < count and time.monotonic() < deadline:
            frame = self.next_frame()
            assert frame is not None, f"stream ended after {found}"
            if "id" in frame:
                found.append(frame)
        return found

    def rest(self) -> list[dict]:
        frames = []
        while (frame := self.next_frame()) is not None:
            frames.append(frame)
        return frames

    def close(self):
        # Closing the body generator is what a WSGI server does when the client goes away; the test
        # client's wrapper then closes the response without dropping the test's DB connection.
        self.body.close()


@pytest.fixture
def open_stream(api_client):
    streams = []

    def _open(url: str, client=None, **headers) -> Stream:
        response = (client or api_client).get(url, HTTP_ACCEPT="text/event-stream", **headers)
        assert response.status_code == 200, response.content
        stream = Stream(response)
        streams.append(stream)
        return stream

    yield _open
    for stream in streams:
        stream.close()


@pytest.fixture
def append(session, django_capture_on_commit_callbacks):
    """Append as a writer in another request would: the on-commit wake-up runs (the test transaction never
    commits, so it is run by hand)."""

    def _append(type: str, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return event_append(session_id=session.pk, type=type, **kwargs)

    return _append


@pytest.fixture
def logged(session):
    """The session's events: session.started + 4 (sequences 1..5)."""
    for t in ("input.message", "session.activated", "turn.started", "output.message.delta"):
        event_append(session_id=session.pk, type=t, data={"t": t})
    return list(session.events.order_by("sequence"))


def eid(event) -> str:
    return format_id("event", event.id)


def test_headers_and_connected_frame_first(open_stream, session_url):
    stream = open_stream(session_url + "/sse")
    assert stream.response["Content-Type"] == "text/event-stream"
    assert stream.response["Cache-Control"] == "no-cache"
    assert stream.response["X-Accel-Buffering"] == "no"
    assert stream.next_frame() == {"event": "connected", "data": {"status": "connected"}}


def test_replay_sends_every_stored_event_in_order_with_full_framing(api_client, open_stream, session_url, logged):
    stream = open_stream(session_url + "/sse")
    stream.next_frame()
    frames = stream.events(5)
    listed = api_client.get(session_url + "/events").json()["data"]
    assert [f["data"] for f in frames] == listed
    for frame, event in zip(frames, listed, strict=True):
        assert frame["event"] == event["type"]
        assert frame["id"] == event["id"]
        assert frame["retry"] == 100


def test_live_events_follow_the_replay_exactly_once_and_in_order(open_stream, append, session_url, logged):
    stream = open_stream(session_url + "/sse")
    assert [f["data"]["sequence"] for f in stream.events(5)] == [1, 2, 3, 4, 5]
    for i in range(3):
        append("output.message.delta", data={"i": i})
    live = stream.events(3)
    assert [f["data"]["sequence"] for f in live] == [6, 7, 8]
    assert [f["data"]["data"] for f in live] == [{"i": 0}, {"i": 1}, {"i": 2}]
    # Nothing else until the cycle ends: no repeats.
    assert [f for f in stream.rest() if "id" in f] == []


def test_an_event_after_an_idle_period_hints_retry_100(settings, open_stream, append, session_url, logged):
    # Contract 5.2: 100 while events flow. An event ends the idle back-off, so its frame says 100 even
    # when the stream had been idle long enough to poll at 500 ms.
    settings.SSE_CYCLE_SECS = 5
    stream = open_stream(session_url + "/sse")
    stream.events(5)
    time.sleep(1.0)
    append("output.message.delta", data={"late": True})
    (frame,) = stream.events(1)
    assert frame["data"]["data"] == {"late": True}
    assert frame["retry"] == 100


def test_resume_by_since_id(open_stream, session_url, logged):
    stream = open_stream(session_url + f"/sse?since_id={eid(logged[1])}")
    assert [f["id"] for f in stream.events(3)] == [eid(e) for e in logged[2:]]
    assert [f for f in stream.rest() if "id" in f] == []


def test_resume_by_last_event_id_header_loses_and_repeats_nothing(open_stream, session, session_url, logged):
    first = open_stream(session_url + "/sse")
    received = first.events(3)
    first.close()
    # Meanwhile more events are written; the client reconnects as EventSource does.
    more = [event_append(session_id=session.pk, type="turn.completed", data={"i": i}) for i in range(2)]
    second = open_stream(session_url + "/sse", HTTP_LAST_EVENT_ID=received[-1]["id"])
    received += second.events(4)
    assert [f["id"] for f in received] == [eid(e) for e in [*logged, *more]]
    assert [f for f in second.rest() if "id" in f] == []


def test_since_id_wins_over_last_event_id(open_stream, session_url, logged):
    stream = open_stream(session_url + f"/sse?since_id={eid(logged[3])}", HTTP_LAST_EVENT_ID=eid(logged[0]))
    assert [f["id"] for f in stream.events(1)] == [eid(logged[4])]


def test_filters_apply_to_replay_and_live(open_stream, append, session_url, logged):
    stream = open_stream(
        session_url + "/sse?types=turn.started&types=turn.completed&exclude=turn.completed&types=message.user"
    )
    assert [f["event"] for f in stream.events(2)] == ["input.message", "turn.started"]
    append("turn.completed")
    append("turn.started", data={"again": True})
    assert [f["data"]["data"] for f in stream.events(1)] == [{"again": True}]


def test_heartbeats_then_the_cycle_ends_with_disconnecting(open_stream, session_url, logged):
    started = time.monotonic()
    stream = open_stream(session_url + "/sse")
    frames = stream.rest()
    elapsed = time.monotonic() - started
    assert frames[0]["event"] == "connected"
    assert [f["data"]["sequence"] for f in frames if "id" in f] == [1, 2, 3, 4, 5]
    heartbeats = [f for f in frames if f.get("comment") == "heartbeat"]
    assert 3 <= len(heartbeats) <= 7  # every 0.1 s over a 0.6 s cycle
    assert frames[-1] == {
        "event": "disconnecting",
        "retry": 100,
        "data": {"reason": "connection_cycle", "retry_ms": 100},
    }
    assert 0.55 <= elapsed < 10  # the 0.6 s cycle ended (generous upper bound: shared CI machines)


def test_the_stream_unregisters_when_the_client_goes_away(open_stream, session_url):
    before = hub.count()
    stream = open_stream(session_url + "/sse")
    stream.next_frame()
    stream.next_frame()  # the generator is now waiting, registered in the hub
    assert hub.count() == before + 1
    stream.close()
    assert hub.count() == before


def test_deleting_the_session_ends_its_streams(api_client, open_stream, session, session_url, logged):
    from apps.sessions.notify import hub as process_hub

    stream = open_stream(session_url + "/sse")
    stream.events(5)
    assert api_client.delete(session_url).status_code == 204
    process_hub.wake(session.pk.hex)  # the on_commit wake-up (the test transaction never commits)
    frames = stream.rest()
    assert all(f.get("event") != "disconnecting" for f in frames)


@pytest.mark.parametrize(
    ("query", "status", "error"),
    [
        ("?types=nope", 400, "Unknown event type: nope"),
        ("?since_id=bad", 400, "Invalid request"),
        ("?since_id=event_" + "0" * 31 + "1", 400, "Unknown since_id"),
    ],
)
def test_errors_before_the_first_byte_are_json(api_client, session_url, query, status, error):
    response = api_client.get(session_url + "/sse" + query, HTTP_ACCEPT="text/event-stream")
    assert response.status_code == status
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"error": error, "status": status}


def test_unknown_malformed_and_foreign_sessions_are_json_404(api_client, other_org_client, session_url):
    for client, url in [
        (other_org_client, session_url + "/sse"),
        (api_client, "/v1/sessions/session_" + "0" * 32 + "/sse"),
        (api_client, "/v1/sessions/garbage/sse"),
    ]:
        response = client.get(url, HTTP_ACCEPT="text/event-stream")
        assert response.status_code == 404
        assert response["Content-Type"] == "application/json"
        assert response.json() == {"error": "Session not found", "status": 404}


def test_access_token_cookie_authenticates_like_eventsource(full_auth, make_user, access_token_for, session_url):
    from rest_framework.test import APIClient

    user = make_user("browser@example.com")
    anonymous = APIClient().get(session_url + "/sse", HTTP_ACCEPT="text/event-stream")
    assert anonymous.status_code == 401
    assert anonymous.json() == {"error": "Unauthorized", "status": 401}
    client = APIClient()
    client.cookies["access_token"] = access_token_for(user)
    response = client.get(session_url + "/sse", HTTP_ACCEPT="text/event-stream")
    assert response.status_code == 200
    assert next(iter(response.streaming_content)) == b'event: connected\ndata: {"status":"connected"}\n\n'
    response._iterator.close()
