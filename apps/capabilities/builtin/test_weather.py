"""test_weather: fake but deterministic weather, for testing tool calls without a network.

The same location always gives the same numbers (derived from a hash of its name), so tests and
demos are reproducible.
"""

import hashlib
from datetime import UTC, datetime, timedelta

from ..base import Capability, Tool, ToolContext, ToolError

CONDITIONS = ("sunny", "partly cloudy", "cloudy", "light rain", "rain", "thunderstorms", "snow", "fog")
UNITS = ("celsius", "fahrenheit")
MAX_FORECAST_DAYS = 7


def _location(arguments: dict) -> str:
    location = arguments.get("location")
    if not isinstance(location, str) or not location.strip():
        raise ToolError("'location' is required, e.g. 'Paris'")
    return location.strip()


def _units(arguments: dict) -> str:
    units = arguments.get("units") or "celsius"
    if units not in UNITS:
        raise ToolError("units must be 'celsius' or 'fahrenheit'")
    return units


def _seed(location: str, day: int) -> int:
    digest = hashlib.sha256(f"{location.lower()}|{day}".encode()).digest()
    return int.from_bytes(digest[:8], "big")


def _day(location: str, day: int, units: str) -> dict:
    seed = _seed(location, day)
    celsius = seed % 41 - 10  # -10..30 °C
    temperature = celsius if units == "celsius" else round(celsius * 9 / 5 + 32)
    return {
        "temperature": temperature,
        "conditions": CONDITIONS[(seed >> 8) % len(CONDITIONS)],
        "humidity": 30 + (seed >> 16) % 61,  # 30..90 %
        "wind_speed_kmh": (seed >> 24) % 41,
    }


def get_weather(arguments: dict, context: ToolContext) -> dict:
    location, units = _location(arguments), _units(arguments)
    return {"location": location, "units": units, **_day(location, 0, units)}


def get_forecast(arguments: dict, context: ToolContext) -> dict:
    location, units = _location(arguments), _units(arguments)
    days = arguments.get("days", 3)
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= MAX_FORECAST_DAYS:
        raise ToolError(f"'days' must be an integer from 1 to {MAX_FORECAST_DAYS}")
    today = datetime.now(UTC).date()
    forecast = [
        {"date": (today + timedelta(days=offset)).isoformat(), **_day(location, offset, units)}
        for offset in range(1, days + 1)
    ]
    return {"location": location, "units": units, "forecast": forecast}


_LOCATION = {"type": "string", "description": "City or place name, e.g. 'Paris'."}
_UNITS = {"type": "string", "enum": list(UNITS), "description": "Temperature units (default celsius)."}

CAPABILITY = Capability(
    id="test_weather",
    name="Test Weather",
    description="Fake, deterministic weather and forecasts for testing tool calls (no real data).",
    category="Testing",
    icon="cloud-sun",
    system_prompt=(
        "You can look up the weather with `get_weather` and a multi-day forecast with `get_forecast`. "
        "The data is simulated for testing."
    ),
    tools=(
        Tool(
            name="get_weather",
            description="Get the current weather for a location.",
            parameters={
                "type": "object",
                "properties": {"location": _LOCATION, "units": _UNITS},
                "required": ["location"],
                "additionalProperties": False,
            },
            handler=get_weather,
        ),
        Tool(
            name="get_forecast",
            description="Get a daily weather forecast for the next days.",
            parameters={
                "type": "object",
                "properties": {
                    "location": _LOCATION,
                    "days": {
                        "type": "integer",
                        "minimum": 1,
                        "maximum": MAX_FORECAST_DAYS,
                        "description": "Number of days (default 3).",
                    },
                    "units": _UNITS,
                },
                "required": ["location"],
                "additionalProperties": False,
            },
            handler=get_forecast,
        ),
    ),
)
