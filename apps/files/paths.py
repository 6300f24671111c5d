"""The one place session-filesystem paths are validated (contract 2.11).

A valid path is absolute (`/a/b.txt`), already normalised (no `.`/`..` segments, no `//`, no
trailing slash except a single one we strip), free of NUL and other control characters and of
backslashes, at most MAX_PATH_LENGTH characters and MAX_DEPTH segments deep, with every segment
at most MAX_NAME_LENGTH characters and none starting with `_` (reserved: `/fs/_/stat` and the
other actions live there). We reject rather than repair: a path that needs repairing is a client
bug or an attack, and silently rewriting `/a/../b` would make two spellings name one file.

Violations raise InvalidPath: the API answers 400 "Invalid request" and logs the reason; the
agent's tools show the reason to the model so it can correct the call.
"""

import re

from apps.core.exceptions import InvalidRequest

ROOT = "/"
MAX_PATH_LENGTH = 1024
MAX_NAME_LENGTH = 255
MAX_DEPTH = 32

# C0 controls, DEL and C1 controls: never useful in a file name, dangerous in logs and terminals.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


class InvalidPath(InvalidRequest):
    """A path that fails validation; `log_detail` says why (safe to show: it is about the caller's input)."""

    def __init__(self, reason: str) -> None:
        super().__init__(log_detail=f"Invalid path: {reason}")
        self.reason = reason


def normalize(raw: object, *, allow_root: bool = False) -> str:
    """Validate `raw` and return the canonical path (`/` or `/a/b` without a trailing slash).

    `allow_root` admits `/` itself (listings, grep scopes and stat, which describes the root as a
    directory); everything that changes or reads one entry (create, read, update, delete, move,
    copy) must name something below the root.
    """
    if not isinstance(raw, str):
        raise InvalidPath("path must be a string")
    if "\x00" in raw:
        raise InvalidPath("path contains a NUL character")
    if not raw.startswith("/"):
        raise InvalidPath("path must be absolute (start with '/')")
    if len(raw) > MAX_PATH_LENGTH:
        raise InvalidPath(f"path is longer than {MAX_PATH_LENGTH} characters")
    if _CONTROL.search(raw):
        raise InvalidPath("path contains a control character")
    if "\\" in raw:
        raise InvalidPath("path contains a backslash")
    if "//" in raw:
        raise InvalidPath("path contains '//'")
    if raw == ROOT:
        if not allow_root:
            raise InvalidPath("the root directory '/' cannot be used here")
        return ROOT
    path = raw[:-1] if raw.endswith("/") else raw
    segments = path[1:].split("/")
    if len(segments) > MAX_DEPTH:
        raise InvalidPath(f"path is deeper than {MAX_DEPTH} levels")
    for segment in segments:
        if segment in (".", ".."):
            raise InvalidPath("path contains a '.' or '..' segment")
        if segment.startswith("_"):
            raise InvalidPath("names starting with '_' are reserved")
        if len(segment) > MAX_NAME_LENGTH:
            raise InvalidPath(f"a name is longer than {MAX_NAME_LENGTH} characters")
        if segment != segment.strip():
            raise InvalidPath("a name starts or ends with whitespace")
    return path


def from_url(tail: str | None) -> str:
    """The path named by the URL tail after `/fs/` (`None` or "" is the root)."""
    if not tail:
        return ROOT
    return normalize("/" + tail, allow_root=True)


def name_of(path: str) -> str:
    """`/a/b.txt` -> `b.txt`; the root has the empty name."""
    return path.rsplit("/", 1)[1]


def parent_of(path: str) -> str:
    """`/a/b.txt` -> `/a`; `/a` -> `/`."""
    head = path.rsplit("/", 1)[0]
    return head or ROOT


def ancestors(path: str) -> list[str]:
    """Every directory above `path`, outermost first, without the root: `/a/b/c` -> [`/a`, `/a/b`]."""
    parts = path.split("/")[1:-1]
    return ["/" + "/".join(parts[: i + 1]) for i in range(len(parts))]


def is_within(path: str, directory: str) -> bool:
    """True when `path` is `directory` itself or anywhere below it."""
    if directory == ROOT:
        return True
    return path == directory or path.startswith(directory + "/")


def subtree_prefix(directory: str) -> str:
    """The string every descendant of `directory` starts with (for `path__startswith`)."""
    return "/" if directory == ROOT else directory + "/"
