"""The /v1/sessions/{id}/fs endpoints (contract 2.11): CRUD, listings, stat, move, copy and access."""

import base64
import json

import pytest

pytestmark = pytest.mark.django_db

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


def create(client, url, content="", **extra):
    response = client.post(url, {"content": content, **extra}, format="json")
    assert response.status_code == 201, response.content
    return response.json()


# ---------------------------------------------------------------- create + read


def test_create_then_read_a_text_file(api_client, fs, session):
    created = create(api_client, fs("notes/todo.md"), "- buy milk\n  trailing  ")
    assert created["id"].startswith("file_")
    assert created["session_id"] == f"session_{session.pk.hex}"
    assert created["path"] == "/notes/todo.md"
    assert created["name"] == "todo.md"
    assert created["content"] == "- buy milk\n  trailing  "  # whitespace kept exactly
    assert created["encoding"] == "text"
    assert created["is_directory"] is False and created["is_readonly"] is False
    assert created["size_bytes"] == len("- buy milk\n  trailing  ")
    assert created["created_at"].endswith("Z")

    response = api_client.get(fs("notes/todo.md"))
    assert response.status_code == 200
    assert response.json() == created


def test_size_is_counted_in_utf8_bytes(api_client, fs):
    assert create(api_client, fs("u.txt"), "héllo ✓")["size_bytes"] == len("héllo ✓".encode())


def test_create_existing_path_is_409(api_client, fs):
    create(api_client, fs("a.txt"), "one")
    response = api_client.post(fs("a.txt"), {"content": "two"}, format="json")
    assert response.status_code == 409
    assert response.json() == {"error": "Path already exists", "status": 409}
    assert api_client.get(fs("a.txt")).json()["content"] == "one"


def test_create_directory_and_list_it(api_client, fs):
    directory = create(api_client, fs("docs"), is_directory=True)
    assert directory["is_directory"] is True
    assert directory["content"] is None and directory["encoding"] is None
    assert directory["size_bytes"] == 0
    create(api_client, fs("docs/b.md"), "b")
    create(api_client, fs("docs/a.md"), "a")

    listing = api_client.get(fs("docs")).json()
    assert listing["total"] == 2
    assert [entry["path"] for entry in listing["data"]] == ["/docs/a.md", "/docs/b.md"]
    assert set(listing["data"][0]) == FILE_INFO_FIELDS  # FileInfo: no content in listings


def test_parents_are_created_as_needed(api_client, fs):
    create(api_client, fs("a/b/c/deep.txt"), "x")
    root = api_client.get(fs()).json()
    assert root == {"data": [root["data"][0]], "total": 1}
    assert root["data"][0]["path"] == "/a" and root["data"][0]["is_directory"] is True
    assert [e["path"] for e in api_client.get(fs("a/b")).json()["data"]] == ["/a/b/c"]


def test_parent_that_is_a_file_is_400(api_client, fs):
    create(api_client, fs("a.txt"), "x")
    response = api_client.post(fs("a.txt/b.txt"), {"content": "y"}, format="json")
    assert response.status_code == 400
    assert response.json() == {"error": "Parent path is not a directory", "status": 400}


def test_directory_with_content_is_400(api_client, fs):
    response = api_client.post(fs("d"), {"is_directory": True, "content": "x"}, format="json")
    assert response.status_code == 400
    assert response.json() == {"error": "Invalid request", "status": 400}


@pytest.mark.parametrize(
    "body",
    [
        {"content": "x", "encoding": "hex"},
        {"content": "not base64 !!", "encoding": "base64"},
        {"content": "nul \u0000 inside"},
        {"content": "lone \ud800 surrogate"},
        {"content": ["a list"]},
        {"content": "x", "is_readonly": "sometimes"},
    ],
)
def test_bad_create_bodies_are_400(api_client, fs, body):
    # json.dumps escapes the lone surrogate (the test client's renderer cannot encode it).
    response = api_client.post(fs("bad.txt"), json.dumps(body), content_type="application/json")
    assert response.status_code == 400
    assert response.json() == {"error": "Invalid request", "status": 400}
    assert api_client.get(fs("bad.txt")).status_code == 404


def test_malformed_json_is_400(api_client, fs):
    response = api_client.post(fs("x.txt"), "{not json", content_type="application/json")
    assert response.json() == {"error": "Invalid request", "status": 400}


def test_empty_file_needs_no_body(api_client, fs):
    response = api_client.post(fs("empty.txt"), {}, format="json")
    assert response.status_code == 201
    assert response.json()["content"] == "" and response.json()["size_bytes"] == 0


def test_read_missing_file_is_404(api_client, fs):
    response = api_client.get(fs("nope.txt"))
    assert response.status_code == 404
    assert response.json() == {"error": "File not found", "status": 404}


# ---------------------------------------------------------------- binary


def test_binary_round_trip_base64_in_bytes_stored_base64_out(api_client, fs, session):
    from apps.files.models import SessionFile

    payload = bytes(range(256)) * 3  # NUL in the first 8 KB -> binary
    encoded = base64.b64encode(payload).decode()
    created = create(api_client, fs("img/blob.bin"), encoded, encoding="base64")
    assert created["encoding"] == "base64"
    assert created["content"] == encoded
    assert created["size_bytes"] == len(payload)
    assert bytes(SessionFile.objects.get(session=session, path="/img/blob.bin").content) == payload
    assert api_client.get(fs("img/blob.bin")).json()["content"] == encoded


def test_base64_text_comes_back_as_text_and_mime_line_breaks_are_accepted(api_client, fs):
    encoded = base64.encodebytes(b"plain words\n" * 10).decode()  # wrapped at 76 chars
    assert "\n" in encoded
    created = create(api_client, fs("t.txt"), encoded, encoding="base64")
    assert created["encoding"] == "text"
    assert created["content"] == "plain words\n" * 10


def test_non_utf8_bytes_without_nul_are_returned_base64(api_client, fs):
    payload = "café".encode("latin-1")
    created = create(api_client, fs("latin1.txt"), base64.b64encode(payload).decode(), encoding="base64")
    assert created["encoding"] == "base64"
    assert base64.b64decode(created["content"]) == payload


def test_nul_after_the_first_8kb_is_still_text(api_client, fs):
    text = "a" * 9000
    payload = text.encode() + b"\x00"
    created = create(api_client, fs("late-nul.txt"), base64.b64encode(payload).decode(), encoding="base64")
    assert created["encoding"] == "text"
    assert created["content"] == text + "\x00"


# ---------------------------------------------------------------- update


def test_update_replaces_content(api_client, fs):
    created = create(api_client, fs("a.txt"), "old")
    response = api_client.put(fs("a.txt"), {"content": "brand new"}, format="json")
    assert response.status_code == 200
    body = response.json()
    assert body["content"] == "brand new" and body["size_bytes"] == 9
    assert body["id"] == created["id"] and body["created_at"] == created["created_at"]
    assert body["updated_at"] >= created["updated_at"]
    assert api_client.get(fs("a.txt")).json()["content"] == "brand new"


def test_update_with_base64(api_client, fs):
    create(api_client, fs("a.bin"), "x")
    body = api_client.put(
        fs("a.bin"), {"content": base64.b64encode(b"\x00\x01").decode(), "encoding": "base64"}, format="json"
    ).json()
    assert body["encoding"] == "base64" and body["size_bytes"] == 2


def test_update_read_only_file_is_400(api_client, fs):
    create(api_client, fs("locked.txt"), "keep", is_readonly=True)
    response = api_client.put(fs("locked.txt"), {"content": "changed"}, format="json")
    assert response.json() == {"error": "File is read-only", "status": 400}
    assert api_client.get(fs("locked.txt")).json()["content"] == "keep"


def test_update_directory_is_400(api_client, fs):
    create(api_client, fs("d"), is_directory=True)
    response = api_client.put(fs("d"), {"content": "x"}, format="json")
    assert response.json() == {"error": "Path is a directory", "status": 400}


def test_update_missing_file_is_404_and_missing_content_400(api_client, fs):
    assert api_client.put(fs("nope.txt"), {"content": "x"}, format="json").status_code == 404
    create(api_client, fs("a.txt"), "x")
    assert api_client.put(fs("a.txt"), {}, format="json").json() == {"error": "Invalid request", "status": 400}


# ---------------------------------------------------------------- delete


def test_delete_file(api_client, fs):
    create(api_client, fs("a.txt"), "x")
    response = api_client.delete(fs("a.txt"))
    assert response.status_code == 200
    assert response.json() == {"deleted": True}
    assert api_client.get(fs("a.txt")).status_code == 404
    assert api_client.delete(fs("a.txt")).json() == {"error": "File not found", "status": 404}


def test_delete_directory_needs_recursive_when_not_empty(api_client, fs):
    create(api_client, fs("d/sub/x.txt"), "x")
    create(api_client, fs("empty"), is_directory=True)
    response = api_client.delete(fs("d"))
    assert response.json() == {"error": "Directory is not empty", "status": 400}
    assert api_client.get(fs("d/sub/x.txt")).status_code == 200

    assert api_client.delete(fs("empty")).json() == {"deleted": True}
    assert api_client.delete(fs("d") + "?recursive=true").json() == {"deleted": True}
    assert api_client.get(fs()).json() == {"data": [], "total": 0}


def test_recursive_delete_is_exact_about_case(api_client, fs):
    # SQLite's LIKE ignores case: /Docs must not take /docs with it.
    create(api_client, fs("Docs/a.txt"), "A")
    create(api_client, fs("docs/a.txt"), "a")
    create(api_client, fs("Docs2/a.txt"), "2")
    api_client.delete(fs("Docs") + "?recursive=true")
    assert api_client.get(fs("docs/a.txt")).json()["content"] == "a"
    assert api_client.get(fs("Docs2/a.txt")).json()["content"] == "2"
    assert api_client.get(fs("Docs")).status_code == 404


def test_delete_root_is_not_allowed(api_client, fs):
    assert api_client.delete(fs()).status_code == 405
    assert api_client.delete(fs("") + "/").json() == {"error": "Invalid request", "status": 400}


def test_api_may_delete_read_only_files(api_client, fs):
    create(api_client, fs("locked.txt"), "x", is_readonly=True)
    assert api_client.delete(fs("locked.txt")).json() == {"deleted": True}


# ---------------------------------------------------------------- listings


def test_root_listing_recursive_and_not(api_client, fs):
    create(api_client, fs("b.txt"), "b")
    create(api_client, fs("a/x.txt"), "x")
    create(api_client, fs("a/y/z.txt"), "z")
    flat = api_client.get(fs()).json()
    assert [e["path"] for e in flat["data"]] == ["/a", "/b.txt"]
    deep = api_client.get(fs() + "?recursive=true").json()
    assert [e["path"] for e in deep["data"]] == ["/a", "/a/x.txt", "/a/y", "/a/y/z.txt", "/b.txt"]
    assert deep["total"] == 5
    sub = api_client.get(fs("a") + "?recursive=1").json()
    assert [e["path"] for e in sub["data"]] == ["/a/x.txt", "/a/y", "/a/y/z.txt"]
    assert api_client.get(fs() + "/").json() == flat  # GET /fs/ is the root too


def test_bad_recursive_flag_is_400(api_client, fs):
    assert api_client.get(fs() + "?recursive=perhaps").json() == {"error": "Invalid request", "status": 400}


# ---------------------------------------------------------------- stat


def test_stat(api_client, fs):
    created = create(api_client, fs("a/b.txt"), "hello")
    response = api_client.post(fs("_/stat"), {"path": "/a/b.txt"}, format="json")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == FILE_INFO_FIELDS
    assert body["id"] == created["id"] and body["size_bytes"] == 5
    assert api_client.post(fs("_/stat"), {"path": "/a"}, format="json").json()["is_directory"] is True
    assert api_client.post(fs("_/stat"), {"path": "/zzz"}, format="json").status_code == 404
    assert api_client.post(fs("_/stat"), {}, format="json").status_code == 400
    assert api_client.post(fs("_/stat"), {"path": "a/b.txt"}, format="json").status_code == 400


def test_actions_only_accept_post(api_client, fs):
    assert api_client.get(fs("_/stat")).status_code == 405


# ---------------------------------------------------------------- move


def test_move_renames_a_file(api_client, fs):
    created = create(api_client, fs("a.txt"), "x")
    response = api_client.post(fs("_/move"), {"src_path": "/a.txt", "dst_path": "/archive/2024/b.txt"}, format="json")
    assert response.status_code == 200
    body = response.json()
    assert body["id"] == created["id"] and body["path"] == "/archive/2024/b.txt" and body["name"] == "b.txt"
    assert api_client.get(fs("a.txt")).status_code == 404
    assert api_client.get(fs("archive/2024/b.txt")).json()["content"] == "x"
    assert api_client.get(fs("archive")).json()["data"][0]["path"] == "/archive/2024"


def test_move_a_directory_moves_its_tree(api_client, fs):
    create(api_client, fs("src/a.txt"), "a")
    create(api_client, fs("src/sub/b.txt"), "b")
    create(api_client, fs("srcfile.txt"), "not inside")
    api_client.post(fs("_/move"), {"src_path": "/src", "dst_path": "/dst"}, format="json")
    deep = api_client.get(fs() + "?recursive=true").json()
    assert [e["path"] for e in deep["data"]] == ["/dst", "/dst/a.txt", "/dst/sub", "/dst/sub/b.txt", "/srcfile.txt"]
    assert api_client.get(fs("dst/sub")).json()["data"][0]["name"] == "b.txt"


@pytest.mark.parametrize(
    ("body", "status", "error"),
    [
        ({"src_path": "/a.txt", "dst_path": "/b.txt"}, 409, "Path already exists"),
        ({"src_path": "/missing", "dst_path": "/c.txt"}, 404, "File not found"),
        ({"src_path": "/d", "dst_path": "/d/inner"}, 400, "Invalid request"),
        ({"src_path": "/a.txt", "dst_path": "/a.txt"}, 400, "Invalid request"),
        ({"src_path": "/a.txt", "dst_path": "/b.txt/c.txt"}, 400, "Parent path is not a directory"),
        ({"src_path": "/a.txt"}, 400, "Invalid request"),
        ({"src_path": "/a.txt", "dst_path": "/../etc"}, 400, "Invalid request"),
    ],
)
def test_move_errors(api_client, fs, body, status, error):
    create(api_client, fs("a.txt"), "a")
    create(api_client, fs("b.txt"), "b")
    create(api_client, fs("d/x.txt"), "x")
    response = api_client.post(fs("_/move"), body, format="json")
    assert response.status_code == status
    assert response.json() == {"error": error, "status": status}
    assert api_client.get(fs("a.txt")).json()["content"] == "a"


# ---------------------------------------------------------------- copy


def test_copy_a_file_makes_an_independent_writable_copy(api_client, fs):
    original = create(api_client, fs("template.txt"), "v1", is_readonly=True)
    response = api_client.post(fs("_/copy"), {"src_path": "/template.txt", "dst_path": "/work/mine.txt"}, format="json")
    assert response.status_code == 201
    copy = response.json()
    assert copy["id"] != original["id"] and copy["path"] == "/work/mine.txt" and copy["is_readonly"] is False
    assert api_client.put(fs("work/mine.txt"), {"content": "v2"}, format="json").status_code == 200
    assert api_client.get(fs("template.txt")).json()["content"] == "v1"


def test_copy_a_directory_tree(api_client, fs):
    payload = base64.b64encode(b"\x00bin").decode()
    create(api_client, fs("src/a.bin"), payload, encoding="base64")
    create(api_client, fs("src/sub/b.txt"), "b")
    api_client.post(fs("_/copy"), {"src_path": "/src", "dst_path": "/backup/src"}, format="json")
    deep = api_client.get(fs("backup") + "?recursive=true").json()
    assert [e["path"] for e in deep["data"]] == [
        "/backup/src",
        "/backup/src/a.bin",
        "/backup/src/sub",
        "/backup/src/sub/b.txt",
    ]
    assert api_client.get(fs("backup/src/a.bin")).json()["content"] == payload
    assert api_client.get(fs("src/sub/b.txt")).status_code == 200  # source untouched


def test_copy_errors(api_client, fs):
    create(api_client, fs("a.txt"), "a")
    create(api_client, fs("d/x.txt"), "x")
    post = lambda body: api_client.post(fs("_/copy"), body, format="json")  # noqa: E731
    conflict = post({"src_path": "/a.txt", "dst_path": "/d/x.txt"})
    assert conflict.json() == {"error": "Path already exists", "status": 409}
    assert post({"src_path": "/nope", "dst_path": "/b"}).status_code == 404
    assert post({"src_path": "/d", "dst_path": "/d/copy"}).status_code == 400
    assert api_client.get(fs("d/x.txt")).json()["content"] == "x"


# ---------------------------------------------------------------- access


ENDPOINTS = [
    ("get", "", None),
    ("get", "a.txt", None),
    ("post", "a.txt", {"content": "x"}),
    ("put", "a.txt", {"content": "x"}),
    ("delete", "a.txt", None),
    ("post", "_/stat", {"path": "/a.txt"}),
    ("post", "_/move", {"src_path": "/a.txt", "dst_path": "/b.txt"}),
    ("post", "_/copy", {"src_path": "/a.txt", "dst_path": "/b.txt"}),
    ("post", "_/grep", {"pattern": "x"}),
]


@pytest.mark.parametrize(("method", "path", "body"), ENDPOINTS)
def test_other_org_gets_404_session_not_found(api_client, other_org_client, fs, method, path, body):
    create(api_client, fs("a.txt"), "secret")
    response = getattr(other_org_client, method)(fs(path), body, format="json")
    assert response.status_code == 404
    assert response.json() == {"error": "Session not found", "status": 404}
    assert api_client.get(fs("a.txt")).json()["content"] == "secret"


@pytest.mark.parametrize(("method", "path", "body"), ENDPOINTS)
@pytest.mark.parametrize("session_id", ["session_" + "0" * 32, "not-an-id", "agent_" + "1" * 32])
def test_unknown_or_malformed_session_is_404(api_client, method, path, body, session_id):
    url = f"/v1/sessions/{session_id}/fs" + (f"/{path}" if path else "")
    response = getattr(api_client, method)(url, body, format="json")
    assert response.json() == {"error": "Session not found", "status": 404}


def test_session_check_comes_before_path_validation(other_org_client, fs):
    response = other_org_client.get(fs("a/../../etc"))
    assert response.json() == {"error": "Session not found", "status": 404}


def test_anonymous_is_401_when_auth_is_on(api_client, fs, settings):
    settings.AUTH_MODE = "full"
    for method, path, body in ENDPOINTS:
        response = getattr(api_client, method)(fs(path), body, format="json")
        assert response.json() == {"error": "Unauthorized", "status": 401}


def test_plain_members_may_use_the_filesystem(member_client, fs):
    assert member_client.post(fs("m.txt"), {"content": "x"}, format="json").status_code == 201
    assert member_client.get(fs("m.txt")).json()["content"] == "x"


def test_sessions_do_not_share_files(api_client, fs, make_session):
    other = make_session()
    create(api_client, fs("a.txt"), "mine")
    assert api_client.get(fs("a.txt", target=other)).status_code == 404
    create(api_client, fs("a.txt", target=other), "theirs")
    assert api_client.get(fs("a.txt")).json()["content"] == "mine"
