"""current_time: the current date and time in any IANA time zone."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ..base import Capability, Tool, ToolContext, ToolError

FORMATS = ("iso8601", "unix", "human")


def get_current_time(arguments: dict, context: ToolContext) -> dict:
    """Now, in `timezone` (default UTC), rendered as iso8601 (default), unix seconds or human text."""
    timezone = arguments.get("timezone") or "UTC"
    fmt = arguments.get("format") or "iso8601"
    if not isinstance(timezone, str):
        raise ToolError("timezone must be a string such as 'Europe/Kyiv'")
    if fmt not in FORMATS:
        raise ToolError(f"format must be one of: {', '.join(FORMATS)}")
    try:
        zone = UTC if timezone.upper() == "UTC" else ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ToolError(f"Unknown timezone: {timezone}") from None
    now = datetime.now(UTC).astimezone(zone)
    if fmt == "unix":
        value: str | int = int(now.timestamp())
    elif fmt == "human":
        value = now.strftime("%A, %B %d, %Y %I:%M:%S %p %Z")
    else:
        value = now.isoformat(timespec="seconds")
    return {"time": value, "timezone": timezone, "format": fmt}


CAPABILITY = Capability(
    id="current_time",
    name="Current Time",
    description="Lets the agent read the current date and time in any time zone.",
    category="Utilities",
    icon="clock",
    system_prompt=(
        "You can call `get_current_time` to learn the current date and time. Use it whenever an answer "
        "depends on today's date or the time of day instead of guessing."
    ),
    tools=(
        Tool(
            name="get_current_time",
            description="Get the current date and time, optionally in a specific IANA time zone.",
            parameters={
                "type": "object",
                "properties": {
                    "timezone": {
                        "type": "string",
                        "description": "IANA time zone name, e.g. 'Europe/Kyiv' or 'America/New_York'. Default UTC.",
                    },
                    "format": {
                        "type": "string",
                        "enum": list(FORMATS),
                        "description": "iso8601 (default), unix (seconds since epoch) or human (readable text).",
                    },
                },
                "additionalProperties": False,
            },
            handler=get_current_time,
        ),
    ),
)
