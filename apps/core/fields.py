"""Serializer fields shared by every app."""

import uuid
from datetime import UTC, datetime
from typing import Any

from rest_framework import serializers

from . import ids


class PublicIdField(serializers.Field):
    """A UUID rendered as `{prefix}_{32 hex}`; on input a malformed id is a validation error (400)."""

    def __init__(self, prefix: str, **kwargs: Any) -> None:
        self.prefix = prefix
        super().__init__(**kwargs)

    def to_representation(self, value: Any) -> str | None:
        value = getattr(value, "pk", value)
        return ids.format_id(self.prefix, value)

    def to_internal_value(self, data: Any) -> uuid.UUID:
        value = ids.parse_id(self.prefix, data)
        if value is None:
            raise serializers.ValidationError(f"malformed {self.prefix} id")
        return value


class StrictCharField(serializers.CharField):
    """A CharField that takes JSON strings only.

    DRF's CharField turns 5 into "5"; a JSON API should answer a wrong type with 400, as an
    experienced client expects (and as the contract's typed schema says).
    """

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictIntegerField(serializers.IntegerField):
    """An IntegerField that takes JSON integers only (DRF's accepts "5" and 5.0)."""

    def to_internal_value(self, data: Any) -> int:
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictBooleanField(serializers.BooleanField):
    """A BooleanField for JSON bodies that takes true/false only (DRF's accepts "yes", 1, "on" …)."""

    def to_internal_value(self, data: Any) -> bool:
        if not isinstance(data, bool):
            self.fail("invalid")
        return data


class TimestampField(serializers.DateTimeField):
    """RFC 3339 in UTC with a Z suffix and millisecond precision (contract 1.4)."""

    def to_representation(self, value):
        return format_ts(value)


def format_ts(value: datetime | None) -> str | None:
    """RFC 3339, UTC, milliseconds, `Z` (contract 1.4); None stays None. Plain function: lists call it per row."""
    if value is None:
        return None
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


# drf-spectacular: both render as strings.
try:
    from drf_spectacular.extensions import OpenApiSerializerFieldExtension

    class PublicIdFieldExtension(OpenApiSerializerFieldExtension):
        target_class = PublicIdField

        def map_serializer_field(self, auto_schema, direction):
            prefix = self.target.prefix
            return {"type": "string", "pattern": f"^{prefix}_[0-9a-f]{{32}}$", "example": f"{prefix}_{'0' * 31}1"}
except ImportError:  # pragma: no cover
    pass
