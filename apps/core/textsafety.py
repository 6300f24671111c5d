"""Text no database column can hold: NUL characters and lone UTF-16 surrogates.

PostgreSQL rejects NUL in text and `\\u0000` in jsonb, and no UTF-8 encoder accepts a lone surrogate,
so either would surface as a 500 at save time (or in a query: `?search=%00` reaches a WHERE clause).
Checked once per kind of input: JSON bodies in the parser (`StrictJSONParser`), query parameters in
RequestIdMiddleware (`query_is_storable`, before any view runs); other parsed input (YAML imports)
calls `ensure_storable`.
"""

import re
from collections.abc import Mapping
from typing import IO, Any

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

from .exceptions import InvalidRequest

_UNSAFE = re.compile("[\x00\ud800-\udfff]")


def unsafe_text(value: Any) -> bool:
    """True when any string (key or value) anywhere in `value` holds a NUL or a lone surrogate.

    Iterative, so any document the parser accepted can be checked whatever its depth.
    """
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if _UNSAFE.search(item):
                return True
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list | tuple):
            pending.extend(item)
    return False


def query_is_storable(query: Mapping[str, Any]) -> bool:
    """False when any name or value of a query string (a QueryDict) holds a NUL or a lone surrogate."""
    lists = getattr(query, "lists", None)
    items = lists() if lists is not None else query.items()
    return not any(unsafe_text(name) or unsafe_text(values) for name, values in items)


def ensure_storable(value: Any) -> None:
    """Raise 400 Invalid request when `value` holds text no database can store."""
    if unsafe_text(value):
        raise InvalidRequest(log_detail="input contains NUL characters or lone surrogates")


class StrictJSONParser(JSONParser):
    """DRF's JSON parser plus the storable-text check: `"\\u0000"` or `"\\ud800"` is 400, never a 500 later."""

    def parse(
        self, stream: IO[Any], media_type: str | None = None, parser_context: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        data = super().parse(stream, media_type, parser_context)
        if unsafe_text(data):
            raise ParseError("JSON contains NUL characters or lone surrogates")
        return data
