"""POST /fs/_/grep: regular expressions, path globs and the size/time guards."""

import base64
import time

import pytest

pytestmark = pytest.mark.django_db


@pytest.fixture
def tree(api_client, fs):
    files = {
        "notes/todo.md": "buy milk\nCall Bob at 5\r\nbuy bread\n",
        "notes/done.md": "paid rent\n",
        "src/app.py": "def main():\n    return 'milk'\n",
        "src/deep/util.py": "# milk helper\n",
        "readme.txt": "nothing to see",
    }
    for path, content in files.items():
        assert api_client.post(fs(path), {"content": content}, format="json").status_code == 201
    binary = base64.b64encode(b"milk\x00milk").decode()
    api_client.post(fs("blob.bin"), {"content": binary, "encoding": "base64"}, format="json")
    return files


def grep(client, fs, **body):
    response = client.post(fs("_/grep"), body, format="json")
    assert response.status_code == 200, response.content
    return response.json()


def test_grep_returns_matches_grouped_by_file(api_client, fs, tree):
    body = grep(api_client, fs, pattern="milk")
    assert body["total"] == 3 and body["truncated"] is False
    assert [item["path"] for item in body["data"]] == ["/notes/todo.md", "/src/app.py", "/src/deep/util.py"]
    assert body["data"][0]["matches"] == [{"path": "/notes/todo.md", "line_number": 1, "line": "buy milk"}]
    assert body["data"][1]["matches"] == [{"path": "/src/app.py", "line_number": 2, "line": "    return 'milk'"}]


def test_grep_is_a_regular_expression(api_client, fs, tree):
    body = grep(api_client, fs, pattern=r"^buy \w+$")
    assert body["data"] == [
        {
            "path": "/notes/todo.md",
            "matches": [
                {"path": "/notes/todo.md", "line_number": 1, "line": "buy milk"},
                {"path": "/notes/todo.md", "line_number": 3, "line": "buy bread"},
            ],
        }
    ]
    # CRLF line ends are not part of the line; inline flags work.
    body = grep(api_client, fs, pattern=r"(?i)call bob at \d$")
    assert body["data"][0]["matches"][0] == {"path": "/notes/todo.md", "line_number": 2, "line": "Call Bob at 5"}


def test_path_pattern_globs(api_client, fs, tree):
    assert [i["path"] for i in grep(api_client, fs, pattern="milk", path_pattern="*.py")["data"]] == [
        "/src/app.py",
        "/src/deep/util.py",
    ]
    assert [i["path"] for i in grep(api_client, fs, pattern="milk", path_pattern="/notes/*")["data"]] == [
        "/notes/todo.md",
    ]
    assert grep(api_client, fs, pattern="milk", path_pattern="*.rs") == {"data": [], "total": 0, "truncated": False}


def test_binary_files_are_skipped(api_client, fs, tree):
    assert "/blob.bin" not in [i["path"] for i in grep(api_client, fs, pattern="milk")["data"]]


def test_no_match_is_an_empty_list(api_client, fs, tree):
    assert grep(api_client, fs, pattern="zebra") == {"data": [], "total": 0, "truncated": False}


@pytest.mark.parametrize(
    "raw",
    [
        '{"pattern": "("}',
        '{"pattern": "a{2,1}"}',
        '{"pattern": ""}',
        "{}",
        '{"pattern": {}}',
        '{"pattern": "a", "path_pattern": ["*.md"]}',
    ],
)
def test_bad_patterns_are_400(api_client, fs, raw):
    response = api_client.post(fs("_/grep"), raw, content_type="application/json")
    assert response.json() == {"error": "Invalid request", "status": 400}


def test_pattern_length_is_bounded(api_client, fs, settings):
    settings.FS_GREP_MAX_PATTERN_LENGTH = 10
    response = api_client.post(fs("_/grep"), {"pattern": "a" * 11}, format="json")
    assert response.json() == {"error": "Input exceeds allowed limits", "status": 400}


def test_catastrophic_backtracking_is_stopped_by_the_deadline(api_client, fs, settings):
    settings.FS_GREP_TIMEOUT_MS = 200
    api_client.post(fs("evil.txt"), {"content": "a" * 64 + "!"}, format="json")
    started = time.monotonic()
    response = api_client.post(fs("_/grep"), {"pattern": r"^(a|aa)+$"}, format="json")
    assert time.monotonic() - started < 3
    assert response.json() == {"error": "Input exceeds allowed limits", "status": 400}


def test_match_count_is_capped(api_client, fs, settings):
    settings.FS_GREP_MAX_MATCHES = 3
    api_client.post(fs("a.txt"), {"content": "hit\n" * 5}, format="json")
    api_client.post(fs("b.txt"), {"content": "hit\n"}, format="json")
    body = grep(api_client, fs, pattern="hit")
    assert body["truncated"] is True
    assert [m["line_number"] for m in body["data"][0]["matches"]] == [1, 2, 3]
    assert body["total"] == 1


def test_scanned_bytes_are_capped(api_client, fs, settings):
    settings.FS_GREP_MAX_SCAN_BYTES = 10
    api_client.post(fs("a.txt"), {"content": "hit 5678\n"}, format="json")  # 9 bytes
    api_client.post(fs("b.txt"), {"content": "hit\n"}, format="json")  # would pass 10
    body = grep(api_client, fs, pattern="hit")
    assert [i["path"] for i in body["data"]] == ["/a.txt"] and body["truncated"] is True


def test_long_lines_are_searched_only_up_to_the_limit(api_client, fs, settings):
    settings.FS_GREP_MAX_LINE_LENGTH = 50
    api_client.post(fs("a.txt"), {"content": "x" * 60 + "needle\nneedle early"}, format="json")
    body = grep(api_client, fs, pattern="needle")
    assert [m["line_number"] for m in body["data"][0]["matches"]] == [2]


def test_returned_lines_are_cut(api_client, fs):
    api_client.post(fs("a.txt"), {"content": "needle" + "y" * 5000}, format="json")
    assert len(grep(api_client, fs, pattern="needle")["data"][0]["matches"][0]["line"]) == 1000
