"""Fields every log line carries: request id, organization, session and turn ids (the log context).

One context variable holds the fields of what the current thread is doing:
- RequestIdMiddleware opens a context per request (`request_id`, plus `session_id` from the URL);
- the organization is bound where a request's organization is resolved (apps.accounts.tenancy);
- the runtime opens one per turn it runs (`session_id`, `turn_id`, `organization_id`).

`LogContextFilter` (settings.LOGGING) copies them onto every record: the JSON formatter (`JsonFormatter`,
python-json-logger) writes them as fields, the text format shows the request id. Requests also record
them in the WSGI environ (`everruns.*`), where gunicorn's access log reads them (`AccessJsonFormatter`).
"""

from __future__ import annotations

import contextvars
import logging
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from types import MappingProxyType
from typing import Any

from pythonjsonlogger.json import JsonFormatter as _JsonFormatter

FIELDS = ("request_id", "organization_id", "session_id", "turn_id")
ENVIRON_PREFIX = "everruns."

_EMPTY: Mapping[str, str] = MappingProxyType({})
_context: contextvars.ContextVar[Mapping[str, str]] = contextvars.ContextVar("everruns_log_context", default=_EMPTY)


def log_fields() -> Mapping[str, str]:
    return _context.get()


@contextmanager
def log_context(environ: dict | None = None, **fields: Any) -> Iterator[None]:
    """Add `fields` to the log context for the duration of the block (restored afterwards)."""
    token = _context.set({**_context.get(), **{k: str(v) for k, v in fields.items() if v is not None}})
    _environ_record(environ, fields)
    try:
        yield
    finally:
        _context.reset(token)


def log_context_bind(environ: dict | None = None, **fields: Any) -> None:
    """Add `fields` to the current context (inside a `log_context` block, which restores it at its end)."""
    _context.set({**_context.get(), **{k: str(v) for k, v in fields.items() if v is not None}})
    _environ_record(environ, fields)


def _environ_record(environ: dict | None, fields: Mapping[str, Any]) -> None:
    if environ is not None:
        for key, value in fields.items():
            if value is not None:
                environ[ENVIRON_PREFIX + key] = str(value)


class LogContextFilter(logging.Filter):
    """Stamps every record with the context's fields (`request_id` is '-' outside requests, for the text format)."""

    def filter(self, record: logging.LogRecord) -> bool:
        context = _context.get()
        for key in FIELDS:
            if not hasattr(record, key) and (key in context or key == "request_id"):
                setattr(record, key, context.get(key, "-"))
        return True


class JsonFormatter(_JsonFormatter):
    """One JSON object per line: time, level, logger, message, the context's fields, and any `extra`."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("fmt", "%(asctime)s %(levelname)s %(name)s %(message)s")
        kwargs.setdefault("rename_fields", {"asctime": "time", "levelname": "level", "name": "logger"})
        kwargs.setdefault("timestamp", False)
        super().__init__(*args, **kwargs)
        self.default_time_format = "%Y-%m-%dT%H:%M:%S"
        self.default_msec_format = "%s.%03dZ"
        self.converter = time.gmtime  # UTC, as the Z says

    def process_log_record(self, log_record: dict[str, Any]) -> dict[str, Any]:
        if log_record.get("request_id") == "-":
            del log_record["request_id"]
        return log_record


class AccessJsonFormatter(JsonFormatter):
    """gunicorn's access log as JSON: its atoms (record.args) become fields, with our context ids.

    gunicorn logs `access_log_format % atoms`; the atoms include the WSGI environ (`{key}e`), where
    requests recorded their log context, and the response headers (`{x-request-id}o`).
    """

    ATOMS = {"method": "m", "path": "U", "status": "s", "bytes": "B", "remote_addr": "h", "user_agent": "a"}

    def add_fields(self, log_record: dict[str, Any], record: logging.LogRecord, message_dict: dict[str, Any]) -> None:  # noqa: E501
        super().add_fields(log_record, record, message_dict)
        atoms = record.args if isinstance(record.args, Mapping) else None
        if atoms is None:
            return
        for field, atom in self.ATOMS.items():
            value = atoms.get(atom)
            if value not in (None, "-"):
                log_record[field] = int(str(value)) if field == "status" and str(value).isdigit() else value
        duration = atoms.get("D")
        if isinstance(duration, int):
            log_record["duration_ms"] = round(duration / 1000, 3)
        for key in FIELDS:
            value = atoms.get("{%s}e" % (ENVIRON_PREFIX + key))
            if value not in (None, "-"):
                log_record[key] = value
        log_record["message"] = " ".join(str(log_record.get(key, "-")) for key in ("method", "path", "status"))
