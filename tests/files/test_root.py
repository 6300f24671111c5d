"""The root directory `/`: it always exists (no row), stats like a directory, and cannot be written or removed."""

import pytest

from apps.core.fields import format_ts
from apps.core.ids import format_id

pytestmark = pytest.mark.django_db

INVALID = {"error": "Invalid request", "status": 400}
FILE_INFO_FIELDS = {
    "id",
    "session_id",
    "path",
    "name",
    "is_directory",
    "is_readonly",
    "size_bytes",
    "created_at",
    "updated_at",
}


def stat(client, fs, path):
    return client.post(fs("_/stat"), {"path": path}, format="json")


def test_stat_of_root_is_a_directory_of_a_fresh_session(api_client, fs, session):
    response = stat(api_client, fs, "/")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == FILE_INFO_FIELDS
    assert body == {
        "id": format_id("file", session.pk),
        "session_id": format_id("session", session.pk),
        "path": "/",
        "name": "",
        "is_directory": True,
        "is_readonly": False,
        "size_bytes": 0,
        "created_at": format_ts(session.created_at),
        "updated_at": format_ts(session.created_at),
    }


def test_stat_of_root_is_stable_and_looks_like_other_directories(api_client, fs):
    before = stat(api_client, fs, "/").json()
    api_client.post(fs("docs/readme.md"), {"content": "hello"}, format="json")
    after = stat(api_client, fs, "/").json()
    assert after == before  # contents do not change the root's size or id
    docs = stat(api_client, fs, "/docs").json()
    assert set(docs) == set(after)
    assert (docs["is_directory"], docs["size_bytes"]) == (after["is_directory"], after["size_bytes"]) == (True, 0)
    assert docs["id"] != after["id"]


def test_root_of_each_session_has_its_own_id(api_client, fs, make_session):
    other = make_session()
    mine = stat(api_client, fs, "/").json()
    theirs = api_client.post(fs("_/stat", target=other), {"path": "/"}, format="json").json()
    assert mine["id"] != theirs["id"]
    assert theirs["session_id"] == format_id("session", other.pk)


def test_stat_of_root_of_another_orgs_session_is_404(other_org_client, fs):
    response = stat(other_org_client, fs, "/")
    assert response.json() == {"error": "Session not found", "status": 404}


def test_stat_of_root_needs_authentication(api_client, fs, settings):
    settings.AUTH_MODE = "full"
    assert stat(api_client, fs, "/").json() == {"error": "Unauthorized", "status": 401}


@pytest.mark.parametrize("bad", ["//", "/.", "/..", "", "root"])
def test_stat_of_root_lookalikes_is_still_400(api_client, fs, bad):
    assert stat(api_client, fs, bad).json() == INVALID


def test_listing_root_works(api_client, fs):
    api_client.post(fs("a.txt"), {"content": "a"}, format="json")
    assert [row["path"] for row in api_client.get(fs()).json()["data"]] == ["/a.txt"]
    assert api_client.get(fs() + "/").json() == api_client.get(fs()).json()


def test_root_cannot_be_deleted(api_client, fs):
    api_client.post(fs("keep/a.txt"), {"content": "a"}, format="json")
    assert api_client.delete(fs()).status_code == 405
    for url in (fs() + "/", fs() + "/?recursive=true"):
        assert api_client.delete(url).json() == INVALID
    assert [row["path"] for row in api_client.get(fs() + "?recursive=true").json()["data"]] == ["/keep", "/keep/a.txt"]


def test_root_cannot_be_written(api_client, fs):
    for body in ({"content": "x"}, {"is_directory": True}):
        assert api_client.post(fs() + "/", body, format="json").json() == INVALID
    assert api_client.put(fs() + "/", {"content": "x"}, format="json").json() == INVALID
    assert api_client.get(fs()).json() == {"data": [], "total": 0}
    assert stat(api_client, fs, "/").status_code == 200


def test_root_cannot_be_moved_or_copied_or_overwritten(api_client, fs):
    api_client.post(fs("a.txt"), {"content": "a"}, format="json")
    for action, body in [
        ("_/move", {"src_path": "/", "dst_path": "/elsewhere"}),
        ("_/copy", {"src_path": "/", "dst_path": "/elsewhere"}),
        ("_/move", {"src_path": "/a.txt", "dst_path": "/"}),
        ("_/copy", {"src_path": "/a.txt", "dst_path": "/"}),
    ]:
        assert api_client.post(fs(action), body, format="json").json() == INVALID, (action, body)
    assert [row["path"] for row in api_client.get(fs()).json()["data"]] == ["/a.txt"]


@pytest.mark.parametrize("field", ["is_directory", "is_readonly"])
def test_create_flags_take_json_booleans_only(api_client, fs, field):
    """`"yes"` used to create a directory (DRF's lenient booleans); a wrong type is a 400 and creates nothing."""
    for value in ["yes", "true", 1, None]:
        assert api_client.post(fs("n.txt"), {field: value}, format="json").json() == INVALID, value
    assert api_client.get(fs()).json()["total"] == 0
    assert api_client.post(fs("n.txt"), {field: True}, format="json").status_code == 201
