"""Every filesystem change appends a file.* event, visible through the session's events API."""

import pytest

from apps.core.ids import format_id
from apps.files import services
from apps.sessions.events import KNOWN_EVENT_TYPES

pytestmark = pytest.mark.django_db


def test_file_event_types_are_known_to_the_filters():
    assert set(services.EVENT_TYPES) <= set(KNOWN_EVENT_TYPES)


def test_each_change_appends_its_event(api_client, fs, events):
    api_client.post(fs("a/b.txt"), {"content": "hi"}, format="json")
    assert events() == [
        ("file.created", {"path": "/a", "is_directory": True, "size_bytes": 0}),
        ("file.created", {"path": "/a/b.txt", "is_directory": False, "size_bytes": 2}),
    ]
    api_client.put(fs("a/b.txt"), {"content": "hello"}, format="json")
    api_client.post(fs("_/copy"), {"src_path": "/a", "dst_path": "/c"}, format="json")
    api_client.post(fs("_/move"), {"src_path": "/c/b.txt", "dst_path": "/c/d.txt"}, format="json")
    api_client.delete(fs("a") + "?recursive=true")
    assert events()[2:] == [
        ("file.updated", {"path": "/a/b.txt", "size_bytes": 5}),
        ("file.copied", {"path": "/c", "src_path": "/a", "dst_path": "/c", "is_directory": True, "copied_count": 2}),
        ("file.moved", {"path": "/c/d.txt", "src_path": "/c/b.txt", "dst_path": "/c/d.txt", "is_directory": False}),
        ("file.deleted", {"path": "/a", "is_directory": True, "deleted_count": 2}),
    ]


def test_reads_and_failed_writes_append_nothing(api_client, fs, events):
    api_client.post(fs("a.txt"), {"content": "x", "is_readonly": True}, format="json")
    before = events()
    api_client.get(fs("a.txt"))
    api_client.get(fs())
    api_client.post(fs("_/stat"), {"path": "/a.txt"}, format="json")
    api_client.post(fs("_/grep"), {"pattern": "x"}, format="json")
    api_client.put(fs("a.txt"), {"content": "y"}, format="json")  # read-only: 400
    api_client.post(fs("a.txt"), {"content": "y"}, format="json")  # exists: 409
    api_client.post(fs("q/r/s.txt"), {"content": "y", "encoding": "base64"}, format="json")  # bad base64: 400
    assert events() == before


def test_file_events_come_through_the_events_api_and_its_filter(api_client, fs, session):
    api_client.post(fs("a.txt"), {"content": "x"}, format="json")
    api_client.delete(fs("a.txt"))
    url = f"/v1/sessions/{format_id('session', session.pk)}/events"
    response = api_client.get(url + "?types=file.created&types=file.deleted")
    assert response.status_code == 200, response.json()
    assert [(e["type"], e["data"]["path"]) for e in response.json()["data"]] == [
        ("file.created", "/a.txt"),
        ("file.deleted", "/a.txt"),
    ]
