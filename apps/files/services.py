"""Every read and write of the session filesystem, shared by the /fs endpoints and the agent's tools.

Contract of the write functions (file_create, file_update, file_write, file_delete, file_move,
file_copy): keyword-only, atomic, they validate paths through `paths.normalize` (the only place
paths are checked), lock the session row so quota checks and parent creation are serialised per
session, and append one `file.*` event per changed entry in the same transaction (streams wake on
commit, see apps.sessions.services.event_append).

Errors are ApplicationError subclasses with a safe API message (`message`) and, in `log_detail`, a
specific explanation that names only the caller's own paths and configured limits: the API logs
it, the tools show it to the model (apps/files/tools.py).
"""

import base64
import binascii
import fnmatch
import time
import uuid
from dataclasses import dataclass, field
from itertools import batched

import regex
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count, Sum

from apps.core.exceptions import Conflict, InputTooLarge, InvalidRequest, NotFound
from apps.core.scoping import get_in_org
from apps.sessions.event_types import EventType
from apps.sessions.models import Session
from apps.sessions.services import event_append

from . import paths
from .models import SessionFile

ENCODING_TEXT = "text"
ENCODING_BASE64 = "base64"
ENCODINGS = (ENCODING_TEXT, ENCODING_BASE64)
BINARY_SNIFF_BYTES = 8192  # contract: binary = a NUL byte in the first 8 KB

EVENT_FILE_CREATED = EventType.FILE_CREATED
EVENT_FILE_UPDATED = EventType.FILE_UPDATED
EVENT_FILE_DELETED = EventType.FILE_DELETED
EVENT_FILE_MOVED = EventType.FILE_MOVED
EVENT_FILE_COPIED = EventType.FILE_COPIED
EVENT_TYPES = (EVENT_FILE_CREATED, EVENT_FILE_UPDATED, EVENT_FILE_DELETED, EVENT_FILE_MOVED, EVENT_FILE_COPIED)

GREP_TIMEOUT_DETAIL = "Grep took too long (simplify the pattern or narrow path_pattern)"
GREP_RETURNED_LINE_CHARS = 1000  # a matching line is returned cut to this many characters
_GREP_BATCH = 50


# --------------------------------------------------------------------------- content codec


def content_decode(*, content: str, encoding: str) -> bytes:
    """Request content -> stored bytes. Text is UTF-8; base64 may contain line breaks (MIME style)."""
    if encoding == ENCODING_BASE64:
        try:
            return base64.b64decode("".join(content.split()), validate=True)
        except (binascii.Error, ValueError):
            raise InvalidRequest(log_detail="Content is not valid base64") from None
    if encoding != ENCODING_TEXT:
        raise InvalidRequest(log_detail="Encoding must be 'text' or 'base64'")
    if "\x00" in content:
        raise InvalidRequest(log_detail="Text content contains a NUL character; send binary content as base64")
    try:
        return content.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidRequest(log_detail="Text content is not valid Unicode") from None


def content_is_binary(data: bytes) -> bool:
    return b"\x00" in data[:BINARY_SNIFF_BYTES]


def content_encode(data: bytes) -> tuple[str, str]:
    """Stored bytes -> (content, encoding): text when it is NUL-free (first 8 KB) UTF-8, else base64.

    Content that is not valid UTF-8 cannot be represented as a JSON string either, so it is
    base64 too even without a NUL byte.
    """
    if not content_is_binary(data):
        try:
            return data.decode("utf-8"), ENCODING_TEXT
        except UnicodeDecodeError:
            pass
    return base64.b64encode(data).decode("ascii"), ENCODING_BASE64


def file_bytes(row: SessionFile) -> bytes:
    """The row's content as bytes (PostgreSQL hands back a memoryview)."""
    return bytes(row.content or b"")


# --------------------------------------------------------------------------- reads


def session_get(*, organization_id: uuid.UUID, session_id: uuid.UUID | None) -> Session:
    """The caller's session; unknown, foreign or unparsable ids are all 404 `Session not found`."""
    return get_in_org(Session, organization=organization_id, not_found="Session not found", pk=session_id)


def root_entry(*, session: Session) -> SessionFile:
    """The root directory `/`, which always exists but has no row: an unsaved SessionFile, never to be saved.

    Our choice (the contract is silent): it looks like any other directory (`is_directory` true,
    `is_readonly` false since entries can be created in it, `size_bytes` 0, the empty name, as
    `paths.name_of` gives); its `id` is the session's own UUID, stable and unique per session and
    never that of a row (rows get fresh UUIDs); `created_at` and `updated_at` are the session's
    creation time, when its empty filesystem came to be.
    """
    return SessionFile(
        id=session.pk,
        session=session,
        path=paths.ROOT,
        parent_path="",
        name="",
        is_directory=True,
        is_readonly=False,
        content=None,
        size_bytes=0,
        created_at=session.created_at,
        updated_at=session.created_at,
    )


def file_stat(*, session: Session, path: str) -> SessionFile:
    """Metadata of the entry at `path`, the root `/` included (as `root_entry`). Raises InvalidPath, NotFound.

    Only for reading metadata: the result for `/` is not a row, so it must not be written or deleted
    (file_get, which the write functions use, still refuses `/`).
    """
    if paths.normalize(path, allow_root=True) == paths.ROOT:
        return root_entry(session=session)
    return file_get(session=session, path=path)


def file_get(*, session: Session, path: str) -> SessionFile:
    """The entry at `path` (file or directory). Raises InvalidPath, NotFound("File not found")."""
    path = paths.normalize(path)
    row = SessionFile.objects.filter(session=session, path=path).first()
    if row is None:
        raise NotFound("File not found", log_detail=f"File not found: {path}")
    return row


def file_list(*, session: Session, path: str = paths.ROOT, recursive: bool = False) -> list[SessionFile]:
    """Entries of a directory (all descendants when recursive), content deferred, ordered by path.

    Raises NotFound when the directory does not exist and InvalidRequest when `path` is a file.
    """
    path = paths.normalize(path, allow_root=True)
    if path != paths.ROOT:
        directory = file_get(session=session, path=path)
        if not directory.is_directory:
            raise InvalidRequest("Path is not a directory", log_detail=f"Path is not a directory: {path}")
    if recursive:
        rows = _subtree(session, path)
    else:
        rows = list(SessionFile.objects.filter(session=session, parent_path=path).defer("content"))
    # Sorted here, not by the database: PostgreSQL's collation would not give byte order.
    return sorted(rows, key=lambda row: row.path)


def session_fs_usage(*, session: Session) -> dict:
    """{"files": entries (files + directories), "bytes": total content size} of the session."""
    totals = SessionFile.objects.filter(session=session).aggregate(files=Count("id"), bytes=Sum("size_bytes"))
    return {"files": totals["files"], "bytes": totals["bytes"] or 0}


# --------------------------------------------------------------------------- writes


@transaction.atomic
def file_create(
    *,
    session: Session,
    path: str,
    content: bytes | None = None,
    is_directory: bool = False,
    is_readonly: bool = False,
    context: dict | None = None,
) -> SessionFile:
    """Create a file (content bytes) or a directory, creating missing parent directories.

    Raises InvalidPath / InvalidRequest (bad path, content for a directory, a parent is a file),
    Conflict("Path already exists"), InputTooLarge (quotas). Appends file.created per new entry.
    """
    path = paths.normalize(path)
    if is_directory and content:
        raise InvalidRequest(log_detail="A directory has no content")
    data = b"" if is_directory else (content or b"")
    _lock(session)
    if SessionFile.objects.filter(session=session, path=path).exists():
        raise Conflict("Path already exists", log_detail=f"Path already exists: {path}")
    missing = _missing_parents(session, path)
    _check_quota(session, add_files=len(missing) + 1, add_bytes=len(data), file_size=len(data))
    for parent in missing:
        _insert(session, parent, is_directory=True, context=context)
    return _insert(
        session,
        path,
        is_directory=is_directory,
        content=None if is_directory else data,
        is_readonly=is_readonly,
        context=context,
    )


@transaction.atomic
def file_update(*, session: Session, path: str, content: bytes, context: dict | None = None) -> SessionFile:
    """Replace a file's content. Raises NotFound, InvalidRequest (directory, read-only), InputTooLarge.

    Appends file.updated.
    """
    _lock(session)
    row = file_get(session=session, path=path)
    if row.is_directory:
        raise InvalidRequest("Path is a directory", log_detail=f"Path is a directory: {row.path}")
    if row.is_readonly:
        raise InvalidRequest("File is read-only", log_detail=f"File is read-only: {row.path}")
    _check_quota(session, add_files=0, add_bytes=len(content) - row.size_bytes, file_size=len(content))
    row.content = content
    row.size_bytes = len(content)
    row.full_clean(exclude=["session"], validate_unique=False, validate_constraints=False)
    row.save(update_fields=["content", "size_bytes", "updated_at"])
    _event(session, EVENT_FILE_UPDATED, {"path": row.path, "size_bytes": row.size_bytes}, context)
    return row


@transaction.atomic
def file_write(*, session: Session, path: str, content: bytes, context: dict | None = None) -> tuple[SessionFile, bool]:
    """Create or overwrite a file (the agent's write_file). Returns (row, created)."""
    path = paths.normalize(path)
    _lock(session)
    if SessionFile.objects.filter(session=session, path=path).exists():
        return file_update(session=session, path=path, content=content, context=context), False
    return file_create(session=session, path=path, content=content, context=context), True


@transaction.atomic
def file_delete(
    *, session: Session, path: str, recursive: bool = False, allow_readonly: bool = True, context: dict | None = None
) -> int:
    """Delete a file or a directory (a non-empty one only when `recursive`); returns the entries removed.

    `allow_readonly=False` (the agent's tools) refuses to remove read-only files, also inside a
    directory. Raises NotFound, InvalidRequest("Directory is not empty" / "File is read-only").
    Appends one file.deleted for `path` with `deleted_count`.
    """
    _lock(session)
    row = file_get(session=session, path=path)
    doomed = [row]
    if row.is_directory:
        descendants = _subtree(session, row.path)
        if descendants and not recursive:
            raise InvalidRequest("Directory is not empty", log_detail=f"Directory is not empty: {row.path}")
        doomed += descendants
    if not allow_readonly:
        _refuse_readonly(doomed)
    SessionFile.objects.filter(pk__in=[entry.pk for entry in doomed]).delete()
    _event(
        session,
        EVENT_FILE_DELETED,
        {"path": row.path, "is_directory": row.is_directory, "deleted_count": len(doomed)},
        context,
    )
    return len(doomed)


@transaction.atomic
def file_move(
    *, session: Session, src_path: str, dst_path: str, allow_readonly: bool = True, context: dict | None = None
) -> SessionFile:
    """Move or rename a file or a directory (with everything below it); missing parents of the
    destination are created. Never overwrites: an existing destination is a Conflict.

    Appends file.created for new parents and file.moved {path (= dst_path), src_path, dst_path}.
    """
    src, dst = _src_dst(src_path, dst_path, verb="move")
    _lock(session)
    row = file_get(session=session, path=src)
    moving = [row] + (_subtree(session, src) if row.is_directory else [])
    if not allow_readonly:
        _refuse_readonly(moving)
    missing = _prepare_destination(session, dst)
    renamed = [_relocated(entry.path, src, dst) for entry in moving]
    _check_quota(session, add_files=len(missing), add_bytes=0, file_size=0)
    for parent in missing:
        _insert(session, parent, is_directory=True, context=context)
    for entry, new_path in zip(moving, renamed, strict=True):
        entry.path, entry.parent_path, entry.name = new_path, paths.parent_of(new_path), paths.name_of(new_path)
    SessionFile.objects.bulk_update(moving, ["path", "parent_path", "name"])
    _event(
        session,
        EVENT_FILE_MOVED,
        {"path": dst, "src_path": src, "dst_path": dst, "is_directory": row.is_directory},
        context,
    )
    return row


@transaction.atomic
def file_copy(*, session: Session, src_path: str, dst_path: str, context: dict | None = None) -> SessionFile:
    """Copy a file or a directory tree to a new path (missing parents are created; never overwrites).

    Copies are writable even when the source is read-only (the point of copying a protected
    template is usually to edit it). Counts against the quotas like new files.
    Appends file.created for new parents and file.copied {path (= dst_path), src_path, dst_path, copied_count}.
    """
    src, dst = _src_dst(src_path, dst_path, verb="copy")
    _lock(session)
    row = file_get(session=session, path=src)
    sources = [row] + (_subtree(session, src, with_content=True) if row.is_directory else [])
    missing = _prepare_destination(session, dst)
    renamed = [_relocated(entry.path, src, dst) for entry in sources]
    copied_bytes = sum(entry.size_bytes for entry in sources)
    _check_quota(session, add_files=len(missing) + len(sources), add_bytes=copied_bytes, file_size=0)
    for parent in missing:
        _insert(session, parent, is_directory=True, context=context)
    copies = [
        SessionFile(
            session=session,
            path=new_path,
            parent_path=paths.parent_of(new_path),
            name=paths.name_of(new_path),
            is_directory=entry.is_directory,
            is_readonly=False,
            content=None if entry.is_directory else file_bytes(entry),
            size_bytes=entry.size_bytes,
        )
        for entry, new_path in zip(sources, renamed, strict=True)
    ]
    SessionFile.objects.bulk_create(copies)
    _event(
        session,
        EVENT_FILE_COPIED,
        {"path": dst, "src_path": src, "dst_path": dst, "is_directory": row.is_directory, "copied_count": len(copies)},
        context,
    )
    return copies[0]


# --------------------------------------------------------------------------- grep


@dataclass
class GrepResult:
    """Files with matching lines (`files`: [{path, matches: [{path, line_number, line}]}], path order)."""

    files: list[dict] = field(default_factory=list)
    truncated: bool = False  # stopped at FS_GREP_MAX_MATCHES or FS_GREP_MAX_SCAN_BYTES
    match_count: int = 0


def file_grep(*, session: Session, pattern: str, path_pattern: str | None = None) -> GrepResult:
    """Search text files line by line with a regular expression (Python `re` syntax).

    Guards (docs/files.md): the pattern is at most FS_GREP_MAX_PATTERN_LENGTH characters; only
    the first FS_GREP_MAX_SCAN_BYTES of file content (in path order) are scanned and only the
    first FS_GREP_MAX_LINE_LENGTH characters of a line are searched; at most FS_GREP_MAX_MATCHES
    matches are returned (both caps set `truncated`). The whole search runs against a deadline of
    FS_GREP_TIMEOUT_MS, enforced inside each regex call by the `regex` engine's timeout (stdlib
    `re` cannot be interrupted), so catastrophic backtracking cannot pin a worker: running out of
    time raises InputTooLarge. Binary and non-UTF-8 files are skipped. `path_pattern` is a glob
    (fnmatch, `*` also matches `/`) over the full path when it contains `/`, else over the name.
    """
    if not isinstance(pattern, str) or not pattern:
        raise InvalidRequest(log_detail="Pattern must be a non-empty string")
    if len(pattern) > settings.FS_GREP_MAX_PATTERN_LENGTH:
        raise InputTooLarge(log_detail=f"Pattern is longer than {settings.FS_GREP_MAX_PATTERN_LENGTH} characters")
    if path_pattern is not None and (not isinstance(path_pattern, str) or len(path_pattern) > paths.MAX_PATH_LENGTH):
        raise InvalidRequest(log_detail="Path_pattern must be a glob of at most 1024 characters")
    try:
        compiled = regex.compile(pattern)
    except (regex.error, OverflowError, ValueError, RecursionError) as exc:
        raise InvalidRequest(log_detail=f"Invalid regular expression: {exc}"[:300]) from None

    deadline = time.monotonic() + settings.FS_GREP_TIMEOUT_MS / 1000
    candidates = sorted(
        (
            entry
            for entry in SessionFile.objects.filter(session=session, is_directory=False).values_list(
                "pk", "path", "size_bytes"
            )
            if _glob_match(path_pattern, entry[1])
        ),
        key=lambda entry: entry[1],
    )
    result = GrepResult()
    selected, scanned = [], 0
    for entry in candidates:
        if scanned + entry[2] > settings.FS_GREP_MAX_SCAN_BYTES:
            result.truncated = True
            break
        selected.append(entry)
        scanned += entry[2]

    for chunk in batched(selected, _GREP_BATCH):
        contents = dict(SessionFile.objects.filter(pk__in=[pk for pk, _, _ in chunk]).values_list("pk", "content"))
        for pk, path, _ in chunk:
            matches = _grep_one(compiled, path, bytes(contents.get(pk) or b""), deadline, result)
            if matches:
                result.files.append({"path": path, "matches": matches})
            if result.truncated and result.match_count >= settings.FS_GREP_MAX_MATCHES:
                return result
    return result


def _grep_one(compiled: regex.Pattern, path: str, data: bytes, deadline: float, result: GrepResult) -> list[dict]:
    if content_is_binary(data):
        return []
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return []
    matches = []
    for number, line in enumerate(text.split("\n"), start=1):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise InputTooLarge(log_detail=GREP_TIMEOUT_DETAIL)
        line = line.removesuffix("\r")
        try:
            hit = compiled.search(line, 0, settings.FS_GREP_MAX_LINE_LENGTH, timeout=remaining)
        except TimeoutError:
            raise InputTooLarge(log_detail=GREP_TIMEOUT_DETAIL) from None
        if hit is None:
            continue
        matches.append({"path": path, "line_number": number, "line": line[:GREP_RETURNED_LINE_CHARS]})
        result.match_count += 1
        if result.match_count >= settings.FS_GREP_MAX_MATCHES:
            result.truncated = True
            break
    return matches


def _glob_match(path_pattern: str | None, path: str) -> bool:
    if not path_pattern:
        return True
    target = path if "/" in path_pattern else paths.name_of(path)
    return fnmatch.fnmatchcase(target, path_pattern)


# --------------------------------------------------------------------------- helpers


def _lock(session: Session) -> None:
    """Serialise filesystem writes per session (quota checks, parent creation) on the session row."""
    Session.objects.select_for_update().filter(pk=session.pk).values_list("pk", flat=True).first()


def _subtree(session: Session, directory: str, *, with_content: bool = False) -> list[SessionFile]:
    """Every entry strictly below `directory` (content deferred unless `with_content`).

    `startswith` narrows in SQL, the exact check is done here: SQLite's LIKE ignores ASCII case,
    so `/Docs/` would otherwise also catch `/docs/…`.
    """
    prefix = paths.subtree_prefix(directory)
    rows = SessionFile.objects.filter(session=session, path__startswith=prefix)
    if not with_content:
        rows = rows.defer("content")
    return [row for row in rows if row.path.startswith(prefix)]


def _missing_parents(session: Session, path: str) -> list[str]:
    """Ancestors of `path` that do not exist yet (outermost first); an ancestor that is a file is an error."""
    wanted = paths.ancestors(path)
    if not wanted:
        return []
    existing = dict(SessionFile.objects.filter(session=session, path__in=wanted).values_list("path", "is_directory"))
    for ancestor in wanted:
        if ancestor in existing and not existing[ancestor]:
            message = "Parent path is not a directory"
            raise InvalidRequest(message, log_detail=f"{message}: {ancestor}")
    return [ancestor for ancestor in wanted if ancestor not in existing]


def _src_dst(src_path: str, dst_path: str, *, verb: str) -> tuple[str, str]:
    src, dst = paths.normalize(src_path), paths.normalize(dst_path)
    if src == dst:
        raise InvalidRequest(log_detail="Source and destination are the same path")
    if paths.is_within(dst, src):
        raise InvalidRequest(log_detail=f"Cannot {verb} a directory into itself")
    return src, dst


def _prepare_destination(session: Session, dst: str) -> list[str]:
    if SessionFile.objects.filter(session=session, path=dst).exists():
        raise Conflict("Path already exists", log_detail=f"Path already exists: {dst}")
    return _missing_parents(session, dst)


def _relocated(path: str, src: str, dst: str) -> str:
    """`path` (at or below `src`) re-rooted under `dst`, re-validated: the new path may be too long or deep."""
    return paths.normalize(dst + path[len(src) :])


def _refuse_readonly(entries: list[SessionFile]) -> None:
    for entry in entries:
        if entry.is_readonly:
            raise InvalidRequest("File is read-only", log_detail=f"File is read-only: {entry.path}")


def _check_quota(session: Session, *, add_files: int, add_bytes: int, file_size: int) -> None:
    """Raise InputTooLarge if the change would break FS_MAX_FILE_BYTES, FS_MAX_FILES or FS_MAX_SESSION_BYTES."""
    if file_size > settings.FS_MAX_FILE_BYTES:
        raise InputTooLarge(log_detail=f"A file may hold at most {settings.FS_MAX_FILE_BYTES} bytes")
    if add_files <= 0 and add_bytes <= 0:
        return
    usage = session_fs_usage(session=session)
    if add_files > 0 and usage["files"] + add_files > settings.FS_MAX_FILES:
        raise InputTooLarge(log_detail=f"A session may hold at most {settings.FS_MAX_FILES} files and directories")
    if add_bytes > 0 and usage["bytes"] + add_bytes > settings.FS_MAX_SESSION_BYTES:
        raise InputTooLarge(log_detail=f"A session may hold at most {settings.FS_MAX_SESSION_BYTES} bytes of files")


def _insert(
    session: Session,
    path: str,
    *,
    is_directory: bool,
    content: bytes | None = None,
    is_readonly: bool = False,
    context: dict | None,
) -> SessionFile:
    row = SessionFile(
        session=session,
        path=path,
        parent_path=paths.parent_of(path),
        name=paths.name_of(path),
        is_directory=is_directory,
        is_readonly=is_readonly,
        content=content,
        size_bytes=len(content) if content is not None else 0,
    )
    row.full_clean(exclude=["session"], validate_unique=False, validate_constraints=False)
    try:
        with transaction.atomic():
            row.save(force_insert=True)
    except IntegrityError:
        # Only reachable if a writer bypassed _lock; the unique constraint is the last line of defence.
        raise Conflict("Path already exists", log_detail=f"Path already exists: {path}") from None
    _event(
        session, EVENT_FILE_CREATED, {"path": path, "is_directory": is_directory, "size_bytes": row.size_bytes}, context
    )
    return row


def _event(session: Session, type: EventType, data: dict, context: dict | None) -> None:
    event_append(session_id=session.pk, type=type, data=data, context=context or {})
