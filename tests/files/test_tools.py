"""The session_file_system capability's tools, run the way the runtime runs them (Tool.run)."""

import base64

import pytest

from apps.capabilities.base import ToolContext, ToolError
from apps.capabilities.registry import get_capability

pytestmark = pytest.mark.django_db


@pytest.fixture
def run(session):
    """run(tool_name, **arguments) -> the tool's result, through the capability's Tool definition."""
    tools = {tool.name: tool for tool in get_capability("session_file_system").tools}
    context = ToolContext(organization_id=session.organization_id, session_id=session.pk, turn_id="turn_" + "a" * 32)

    def _run(name: str, **arguments):
        return tools[name].run(arguments, context)

    return _run


def test_the_capability_lists_exactly_these_tools():
    names = [tool.name for tool in get_capability("session_file_system").tools]
    assert names == [
        "read_file",
        "write_file",
        "list_directory",
        "grep_files",
        "delete_file",
        "stat_file",
        "move_file",
        "copy_file",
    ]


def test_write_then_read(run, api_client, fs):
    assert run("write_file", path="/notes/a.md", content="hello") == {
        "path": "/notes/a.md",
        "size_bytes": 5,
        "created": True,
    }
    assert run("write_file", path="/notes/a.md", content="hello again")["created"] is False
    result = run("read_file", path="/notes/a.md")
    assert result == {
        "path": "/notes/a.md",
        "content": "hello again",
        "encoding": "text",
        "size_bytes": 11,
        "is_readonly": False,
        "truncated": False,
    }
    assert api_client.get(fs("notes/a.md")).json()["content"] == "hello again"  # same storage as the API


def test_binary_through_tools(run):
    payload = base64.b64encode(b"\x89PNG\x00\x01").decode()
    run("write_file", path="/img.png", content=payload, encoding="base64")
    assert run("read_file", path="/img.png")["content"] == payload
    assert run("read_file", path="/img.png")["encoding"] == "base64"


def test_read_is_truncated_for_the_model(run, settings):
    settings.FS_TOOL_READ_MAX_BYTES = 5
    run("write_file", path="/long.txt", content="ab✓defgh")  # ✓ is bytes 2..4: the cut keeps it whole
    result = run("read_file", path="/long.txt")
    assert result["truncated"] is True and result["content"] == "ab✓" and result["size_bytes"] == 10


def test_list_stat_grep(run):
    run("write_file", path="/a/x.txt", content="needle here\nno")
    run("write_file", path="/b.txt", content="nothing")
    root = run("list_directory")
    assert root["path"] == "/" and root["total"] == 2
    assert [(e["path"], e["is_directory"]) for e in root["entries"]] == [("/a", True), ("/b.txt", False)]
    assert run("list_directory", path="/", recursive=True)["total"] == 3
    assert run("list_directory", path="/a", recursive="true")["entries"][0]["name"] == "x.txt"
    assert run("stat_file", path="/")["is_directory"] is True  # the root always exists, as over the API
    stat = run("stat_file", path="/a/x.txt")
    assert stat["size_bytes"] == 14 and stat["is_directory"] is False and stat["created_at"].endswith("Z")
    assert run("grep_files", pattern="need.e", path_pattern="*.txt") == {
        "results": [{"path": "/a/x.txt", "matches": [{"line_number": 1, "line": "needle here"}]}],
        "total_matches": 1,
        "truncated": False,
    }


def test_move_copy_delete(run):
    run("write_file", path="/a.txt", content="x")
    moved = run("move_file", src_path="/a.txt", dst_path="/dir/b.txt")
    assert moved["moved"] is True and moved["src_path"] == "/a.txt" and moved["dst_path"] == "/dir/b.txt"
    copied = run("copy_file", src_path="/dir", dst_path="/dir2")
    assert copied["copied"] is True and copied["is_directory"] is True
    assert run("delete_file", path="/dir", recursive=True) == {"path": "/dir", "deleted": True, "deleted_count": 2}
    assert [e["path"] for e in run("list_directory", recursive=True)["entries"]] == ["/dir2", "/dir2/b.txt"]


@pytest.mark.parametrize(
    ("name", "arguments", "message"),
    [
        ("read_file", {"path": "/missing.txt"}, "File not found: /missing.txt"),
        ("read_file", {}, "Missing required argument: path"),
        ("read_file", {"path": 3}, "Argument 'path' must be a string"),
        ("read_file", {"path": "/a/../../etc/passwd"}, "Invalid path: path contains a '.' or '..' segment"),
        ("read_file", {"path": "relative.txt"}, "Invalid path: path must be absolute (start with '/')"),
        ("read_file", {"path": "/dir"}, "Path is a directory: /dir (use list_directory)"),
        ("write_file", {"path": "/locked.txt", "content": "x"}, "File is read-only: /locked.txt"),
        ("write_file", {"path": "/dir", "content": "x"}, "Path is a directory: /dir"),
        ("write_file", {"path": "/f.txt/x", "content": "x"}, "Parent path is not a directory: /f.txt"),
        ("write_file", {"path": "/x", "content": "%%%", "encoding": "base64"}, "Content is not valid base64"),
        ("write_file", {"path": "/_x", "content": "x"}, "Invalid path: names starting with '_' are reserved"),
        ("list_directory", {"path": "/nope"}, "Directory not found: /nope"),
        ("list_directory", {"path": "/f.txt"}, "Path is not a directory: /f.txt"),
        ("list_directory", {"recursive": "sometimes"}, "Argument 'recursive' must be a boolean"),
        ("grep_files", {"pattern": "("}, "Invalid regular expression: missing )"),
        ("delete_file", {"path": "/dir"}, "Directory is not empty: /dir"),
        ("delete_file", {"path": "/locked.txt"}, "File is read-only: /locked.txt"),
        ("delete_file", {"path": "/dir", "recursive": True}, "File is read-only: /dir/locked-inside.txt"),
        ("move_file", {"src_path": "/locked.txt", "dst_path": "/y"}, "File is read-only: /locked.txt"),
        ("move_file", {"src_path": "/f.txt", "dst_path": "/dir"}, "Path already exists: /dir"),
        ("copy_file", {"src_path": "/dir", "dst_path": "/dir/sub"}, "Cannot copy a directory into itself"),
        ("delete_file", {"path": "/"}, "Invalid path: the root directory '/' cannot be used here"),
    ],
)
def test_errors_the_model_can_act_on(run, api_client, fs, name, arguments, message):
    api_client.post(fs("locked.txt"), {"content": "keep", "is_readonly": True}, format="json")
    api_client.post(fs("dir/locked-inside.txt"), {"content": "keep", "is_readonly": True}, format="json")
    api_client.post(fs("f.txt"), {"content": "f"}, format="json")
    with pytest.raises(ToolError) as excinfo:
        run(name, **arguments)
    assert str(excinfo.value).startswith(message)
    assert api_client.get(fs("locked.txt")).json()["content"] == "keep"
    assert api_client.get(fs("dir/locked-inside.txt")).status_code == 200


def test_quota_errors_name_the_limit(run, settings):
    settings.FS_MAX_FILE_BYTES = 3
    with pytest.raises(ToolError, match="A file may hold at most 3 bytes"):
        run("write_file", path="/big.txt", content="four")


def test_tool_events_carry_the_turn(run, events, session):
    from apps.sessions.models import Event

    run("write_file", path="/t.txt", content="x")
    event = Event.objects.get(session=session, type="file.created")
    assert event.context == {"turn_id": "turn_" + "a" * 32}


def test_a_context_from_another_org_finds_no_session(session, make_org):
    from apps.files.tools import read_file

    foreign = ToolContext(organization_id=make_org("Elsewhere").pk, session_id=session.pk)
    with pytest.raises(ToolError, match="Session not found"):
        read_file({"path": "/a"}, foreign)
