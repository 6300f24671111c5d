"""The SSE framing helper and the wake-up hub (apps.sessions.streaming / notify), without HTTP."""

import json
import socket
import threading

from apps.sessions import streaming
from apps.sessions.notify import Hub
from bench.sseclient import FrameReader, parse_frame


def test_event_frame_has_event_id_retry_and_one_line_of_json():
    raw = streaming.frame(event="turn.started", id="event_1", retry=100, data={"a": "x\ny", "b": "é"})
    assert raw == b'event: turn.started\nid: event_1\nretry: 100\ndata: {"a":"x\\ny","b":"\xc3\xa9"}\n\n'
    assert parse_frame(raw.decode().strip()) == {
        "event": "turn.started",
        "id": "event_1",
        "retry": 100,
        "data": {"a": "x\ny", "b": "é"},
    }


def test_multiline_text_data_becomes_several_data_lines_and_fields_cannot_break_out():
    raw = streaming.frame(event="a\nid: evil", data="line1\nline2\r\nline3")
    assert raw == b"event: a id: evil\ndata: line1\ndata: line2\ndata: line3\n\n"


def test_fixed_frames():
    assert streaming.CONNECTED == b'event: connected\ndata: {"status":"connected"}\n\n'
    assert streaming.DISCONNECTING == (
        b'event: disconnecting\nretry: 100\ndata: {"reason":"connection_cycle","retry_ms":100}\n\n'
    )
    assert streaming.HEARTBEAT == b": heartbeat\n\n"
    assert streaming.comment("a\nb") == b": a b\n\n"


def test_frame_reader_handles_any_chunking():
    raw = streaming.CONNECTED + streaming.HEARTBEAT + streaming.frame(event="x", id="event_2", data={"k": 1})
    reader = FrameReader()
    frames = [f for i in range(0, len(raw), 7) for f in reader.feed(raw[i : i + 7])]
    assert frames == [
        {"event": "connected", "data": {"status": "connected"}},
        {"comment": "heartbeat"},
        {"event": "x", "id": "event_2", "data": {"k": 1}},
    ]
    assert json.loads(raw.split(b"data: ")[-1])["k"] == 1


def test_hub_wakes_only_the_sessions_waiters():
    hub = Hub()
    a1, a2 = hub.subscribe("0" * 31 + "1"), hub.subscribe("0" * 31 + "1")
    b = hub.subscribe("0" * 31 + "2")
    assert hub.wake("0" * 31 + "1") == 2
    assert a1.is_set() and a2.is_set() and not b.is_set()
    hub.unsubscribe(a1)
    hub.unsubscribe(a2)
    hub.unsubscribe(b)
    assert hub.count() == 0
    assert hub.wake("0" * 31 + "1") == 0


def test_a_waiter_blocks_without_spinning_until_woken():
    hub = Hub()
    waiter = hub.subscribe("0" * 31 + "1")
    assert waiter.wait(0.05) is False
    threading.Timer(0.05, hub.wake, args=["0" * 31 + "1"]).start()
    assert waiter.wait(5) is True


def test_client_gone_detects_a_closed_peer():
    server, client = socket.socketpair()
    try:
        assert streaming.client_gone(None) is False
        assert streaming.client_gone(server) is False
        client.close()
        assert streaming.client_gone(server) is True
    finally:
        server.close()
