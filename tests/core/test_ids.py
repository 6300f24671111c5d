import uuid

import pytest

from apps.core import ids
from apps.core.exceptions import InvalidRequest


def test_new_ids_are_prefixed_uuid7_hex():
    value = ids.new_id("agent")
    prefix, hexpart = value.split("_")
    assert prefix == "agent"
    assert len(hexpart) == 32 and hexpart == hexpart.lower()
    assert uuid.UUID(hexpart).version == 7


def test_uuid7_is_time_ordered():
    values = [ids.uuid7() for _ in range(200)]
    timestamps = [v.int >> 80 for v in values]
    assert timestamps == sorted(timestamps)
    assert len(set(values)) == 200


def test_round_trip_and_hyphenated_tolerance():
    value = ids.uuid7()
    assert ids.parse_id("session", ids.format_id("session", value)) == value
    assert ids.parse_id("session", f"session_{value}") == value  # hyphenated form normalised


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "agent",
        "agent_",
        "agent_xyz",
        "session_" + "0" * 32,
        "agent_" + "g" * 32,
        "agent_" + "0" * 31,
        None,
        42,
        "agent_" + "0" * 33,
        " agent_" + "0" * 32,
    ],
)
def test_malformed_ids_do_not_parse(raw):
    assert ids.parse_id("agent", raw) is None


def test_body_ids_raise_400():
    with pytest.raises(InvalidRequest):
        ids.parse_id_or_400("agent", "agent_nope")
