"""Handlers of the session_file_system capability's tools (definitions: apps/capabilities/builtin).

Each handler is `handler(arguments, context) -> dict` and calls the same services as the /fs
endpoints. Results are small JSON objects the model can act on; every failure it can fix (bad
path, missing file, read-only, quota, bad regex) is a ToolError whose message names the problem
and the path, e.g. "File not found: /notes.txt".

The agent is more constrained than an API client in one way: it cannot delete or move read-only
files (they are what the user protected from it); it can still read and copy them.
"""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from typing import Any

from django.conf import settings

from apps.capabilities.base import ToolContext, ToolError
from apps.core.exceptions import ApplicationError
from apps.core.fields import format_ts
from apps.sessions.models import Session

from . import paths, services
from .models import SessionFile


@contextmanager
def _tool_errors() -> Iterator[None]:
    """ApplicationError -> ToolError with the specific reason (log_detail names only the caller's paths/limits)."""
    try:
        yield
    except ApplicationError as exc:
        raise ToolError(exc.log_detail or exc.message) from exc


def _tool(func: Callable[[dict, Session, dict], Any]) -> Callable[[dict, ToolContext], Any]:
    """Resolve the session from the context and translate service errors for the model."""

    @wraps(func)
    def handler(arguments: dict, context: ToolContext) -> Any:
        if not isinstance(arguments, dict):
            raise ToolError("Arguments must be a JSON object")
        session = Session.objects.filter(pk=context.session_id, organization_id=context.organization_id).first()
        if session is None:
            raise ToolError("Session not found")
        event_context = {"turn_id": context.turn_id} if context.turn_id else {}
        with _tool_errors():
            return func(arguments, session, event_context)

    return handler


def _str(arguments: dict, name: str, *, default: str | None = None) -> str:
    value = arguments.get(name)
    if value is None:
        value = default
    if value is None:
        raise ToolError(f"Missing required argument: {name}")
    if not isinstance(value, str):
        raise ToolError(f"Argument '{name}' must be a string")
    return value


def _bool(arguments: dict, name: str) -> bool:
    value = arguments.get(name, False)
    # Models sometimes send booleans as strings; accept the unambiguous ones.
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    if value is None or isinstance(value, bool):
        return bool(value)
    raise ToolError(f"Argument '{name}' must be a boolean")


def _info(row: SessionFile) -> dict:
    return {
        "path": row.path,
        "name": row.name,
        "is_directory": row.is_directory,
        "is_readonly": row.is_readonly,
        "size_bytes": row.size_bytes,
        "created_at": format_ts(row.created_at),
        "updated_at": format_ts(row.updated_at),
    }


@_tool
def read_file(arguments: dict, session: Session, event_context: dict) -> dict:
    """{path} -> {path, content, encoding, size_bytes, is_readonly, truncated}; long files are cut."""
    row = services.file_get(session=session, path=_str(arguments, "path"))
    if row.is_directory:
        raise ToolError(f"Path is a directory: {row.path} (use list_directory)")
    data = services.file_bytes(row)
    content, encoding = services.content_encode(data)
    limit = settings.FS_TOOL_READ_MAX_BYTES
    truncated = len(data) > limit
    if truncated:
        # Cut on bytes, then drop a partial trailing UTF-8 character.
        head = data[:limit]
        content = (
            head.decode("utf-8", errors="ignore")
            if encoding == services.ENCODING_TEXT
            else (services.content_encode(head)[0])
        )
    return {
        "path": row.path,
        "content": content,
        "encoding": encoding,
        "size_bytes": row.size_bytes,
        "is_readonly": row.is_readonly,
        "truncated": truncated,
    }


@_tool
def write_file(arguments: dict, session: Session, event_context: dict) -> dict:
    """{path, content, encoding?} -> {path, size_bytes, created}; creates parents, overwrites files."""
    encoding = _str(arguments, "encoding", default=services.ENCODING_TEXT)
    data = services.content_decode(content=_str(arguments, "content"), encoding=encoding)
    row, created = services.file_write(
        session=session, path=_str(arguments, "path"), content=data, context=event_context
    )
    return {"path": row.path, "size_bytes": row.size_bytes, "created": created}


@_tool
def list_directory(arguments: dict, session: Session, event_context: dict) -> dict:
    """{path? = "/", recursive?} -> {path, entries: [{path, name, is_directory, size_bytes, ...}], total}."""
    path = _str(arguments, "path", default=paths.ROOT)
    try:
        rows = services.file_list(session=session, path=path, recursive=_bool(arguments, "recursive"))
    except ApplicationError as exc:
        if exc.status_code == 404:
            raise ToolError(f"Directory not found: {path}") from exc
        raise
    entries = [_info(row) for row in rows]
    return {"path": paths.normalize(path, allow_root=True), "entries": entries, "total": len(entries)}


@_tool
def grep_files(arguments: dict, session: Session, event_context: dict) -> dict:
    """{pattern, path_pattern?} -> {results: [{path, matches: [{line_number, line}]}], total_matches, truncated}."""
    path_pattern = arguments.get("path_pattern")
    if path_pattern is not None and not isinstance(path_pattern, str):
        raise ToolError("Argument 'path_pattern' must be a string")
    result = services.file_grep(session=session, pattern=_str(arguments, "pattern"), path_pattern=path_pattern or None)
    files = [
        {"path": item["path"], "matches": [{key: m[key] for key in ("line_number", "line")} for m in item["matches"]]}
        for item in result.files
    ]
    return {"results": files, "total_matches": result.match_count, "truncated": result.truncated}


@_tool
def delete_file(arguments: dict, session: Session, event_context: dict) -> dict:
    """{path, recursive?} -> {path, deleted, deleted_count}; never removes read-only files."""
    path = _str(arguments, "path")
    count = services.file_delete(
        session=session,
        path=path,
        recursive=_bool(arguments, "recursive"),
        allow_readonly=False,
        context=event_context,
    )
    return {"path": paths.normalize(path), "deleted": True, "deleted_count": count}


@_tool
def stat_file(arguments: dict, session: Session, event_context: dict) -> dict:
    """{path} -> {path, name, is_directory, is_readonly, size_bytes, created_at, updated_at}."""
    return _info(services.file_stat(session=session, path=_str(arguments, "path")))


@_tool
def move_file(arguments: dict, session: Session, event_context: dict) -> dict:
    """{src_path, dst_path} -> {src_path, dst_path, moved, ...info}; never overwrites, never moves read-only files."""
    src, dst = _str(arguments, "src_path"), _str(arguments, "dst_path")
    row = services.file_move(session=session, src_path=src, dst_path=dst, allow_readonly=False, context=event_context)
    return {"src_path": paths.normalize(src), "dst_path": row.path, "moved": True, **_info(row)}


@_tool
def copy_file(arguments: dict, session: Session, event_context: dict) -> dict:
    """{src_path, dst_path} -> {src_path, dst_path, copied, ...info}; never overwrites."""
    src, dst = _str(arguments, "src_path"), _str(arguments, "dst_path")
    row = services.file_copy(session=session, src_path=src, dst_path=dst, context=event_context)
    return {"src_path": paths.normalize(src), "dst_path": row.path, "copied": True, **_info(row)}
