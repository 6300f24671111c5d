"""Path validation (apps/files/paths.py): attacks through the URL and the bodies, and the rules themselves."""

import logging

import pytest

from apps.files import paths

pytestmark = pytest.mark.django_db

INVALID = {"error": "Invalid request", "status": 400}

URL_ATTACKS = [
    "a/../../etc/passwd",  # traversal
    "../etc/passwd",
    "a/./b",
    "..",
    "%2e%2e/%2e%2e/etc/passwd",  # percent-encoded dots (decoded before routing)
    "a/%2E%2E/%2e%2E/etc",
    "a%2F%2Fb",  # encoded '//'
    "a//b",
    "//a",  # fs//a
    "a%00.txt",  # NUL
    "a%0Ab.txt",  # newline
    "a%09b",  # tab
    "a%5C..%5C..%5Cetc",  # backslashes
    "_secret.txt",  # reserved names
    "docs/_private/x.txt",
    "_/unknown-action",
    "%20padded.txt",
    "x" * 256,  # one name too long
    "/".join(["d"] * (paths.MAX_DEPTH + 1)),  # too deep
    "/".join(["abcdefghi"] * 110),  # too long overall (> 1024)
]


@pytest.mark.parametrize("path", URL_ATTACKS)
@pytest.mark.parametrize("method", ["get", "post", "put", "delete"])
def test_url_path_attacks_are_400(api_client, fs, method, path):
    response = getattr(api_client, method)(fs(path), {"content": "pwned"}, format="json")
    assert response.status_code == 400, (method, path, response.content)
    assert response.json() == INVALID


def test_attacks_leave_nothing_behind(api_client, fs, session):
    from apps.files.models import SessionFile

    for path in URL_ATTACKS:
        api_client.post(fs(path), {"content": "pwned"}, format="json")
    assert SessionFile.objects.filter(session=session).count() == 0


BODY_ATTACKS = ["/a/../../etc", "relative.txt", "/a\\..\\b", "/_reserved", "//a", "/a/\u0000", "", "/", 7, None]


@pytest.mark.parametrize("bad", BODY_ATTACKS)
def test_body_path_attacks_are_400(api_client, fs, bad):
    api_client.post(fs("ok.txt"), {"content": "x"}, format="json")
    stat = [] if bad == "/" else [("_/stat", {"path": bad})]  # the root exists: tests/files/test_root.py
    for action, body in [
        *stat,
        ("_/move", {"src_path": "/ok.txt", "dst_path": bad}),
        ("_/move", {"src_path": bad, "dst_path": "/new.txt"}),
        ("_/copy", {"src_path": "/ok.txt", "dst_path": bad}),
    ]:
        response = api_client.post(fs(action), body, format="json")
        assert response.json() == INVALID, (action, bad)
    assert [e["path"] for e in api_client.get(fs()).json()["data"]] == ["/ok.txt"]


def test_double_encoding_is_a_literal_name_not_a_traversal(api_client, fs):
    response = api_client.post(fs("%252e%252e/x.txt"), {"content": "x"}, format="json")
    assert response.status_code == 201
    assert response.json()["path"] == "/%2e%2e/x.txt"
    assert [e["path"] for e in api_client.get(fs()).json()["data"]] == ["/%2e%2e"]


def test_deepest_and_longest_allowed_paths_work(api_client, fs):
    deepest = "/".join(["d"] * paths.MAX_DEPTH)
    assert api_client.post(fs(deepest), {"content": "x"}, format="json").status_code == 201
    long_name = "n" * paths.MAX_NAME_LENGTH
    assert api_client.post(fs(long_name), {"content": "x"}, format="json").status_code == 201


def test_trailing_slash_names_the_same_entry(api_client, fs):
    api_client.post(fs("a.txt"), {"content": "x"}, format="json")
    assert api_client.get(fs("a.txt/")).json()["path"] == "/a.txt"


def test_unicode_names_are_allowed(api_client, fs):
    response = api_client.post(fs("notes/%C3%BCber-%E2%9C%93.md"), {"content": "x"}, format="json")
    assert response.status_code == 201
    assert response.json()["name"] == "über-✓.md"


def test_the_reason_is_logged_not_returned(api_client, fs, caplog):
    with caplog.at_level(logging.INFO, logger="everruns.errors"):
        response = api_client.get(fs("a/../../etc"))
    assert response.json() == INVALID
    assert "'.' or '..' segment" in caplog.text


def test_moving_a_tree_below_the_depth_limit_is_refused(api_client, fs):
    api_client.post(fs("/".join(["d"] * 30)), {"content": "x"}, format="json")
    response = api_client.post(fs("_/move"), {"src_path": "/d", "dst_path": "/x/y/z/d"}, format="json")
    assert response.json() == INVALID
    assert api_client.get(fs("/".join(["d"] * 30))).status_code == 200


# ---------------------------------------------------------------- the rules, directly


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("/a", "/a"), ("/a/b.txt", "/a/b.txt"), ("/a/", "/a"), ("/a b/c-d.e", "/a b/c-d.e"), ("/a.b..c", "/a.b..c")],
)
def test_normalize_accepts(raw, expected):
    assert paths.normalize(raw) == expected


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("a", "absolute"),
        ("/a/../b", "'..'"),
        ("/a//b", "'//'"),
        ("/a\x00", "NUL"),
        ("/a\x7f", "control"),
        ("/_x", "reserved"),
        ("/", "root"),
        ("/" + "a" * 1100, "longer than"),
        (b"/a", "string"),
    ],
)
def test_normalize_rejects_with_a_reason(raw, reason):
    with pytest.raises(paths.InvalidPath) as excinfo:
        paths.normalize(raw)
    assert reason in excinfo.value.reason
    assert excinfo.value.message == "Invalid request"


def test_root_only_where_allowed():
    assert paths.normalize("/", allow_root=True) == "/"
    assert paths.from_url("") == "/" and paths.from_url(None) == "/"


def test_tree_helpers():
    assert paths.ancestors("/a/b/c.txt") == ["/a", "/a/b"]
    assert paths.ancestors("/a") == []
    assert paths.parent_of("/a/b") == "/a" and paths.parent_of("/a") == "/"
    assert paths.is_within("/a/b", "/a") and not paths.is_within("/ab", "/a")
