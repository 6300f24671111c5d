"""Tool handlers of the built-in capabilities (called as the runtime calls them: Tool.run)."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from apps.capabilities.base import ToolContext, ToolError
from apps.capabilities.registry import get_capability

CONTEXT = ToolContext(organization_id=uuid.uuid4(), session_id=uuid.uuid4())


def run(capability_id: str, tool_name: str, arguments: dict):
    tool = next(t for t in get_capability(capability_id).tools if t.name == tool_name)
    return tool.run(arguments, CONTEXT)


@pytest.mark.parametrize(
    ("tool", "a", "b", "result"),
    [
        ("add", 2, 3, 5),
        ("subtract", 2, 3.5, -1.5),
        ("multiply", -4, 2.5, -10),
        ("divide", 6, 3, 2),
        ("divide", 1, 4, 0.25),
        ("add", 0.1, 0.2, 0.1 + 0.2),
    ],
)
def test_math(tool, a, b, result):
    assert run("test_math", tool, {"a": a, "b": b}) == {"result": result}


def test_divide_by_zero_is_a_tool_error():
    with pytest.raises(ToolError, match="Division by zero"):
        run("test_math", "divide", {"a": 1, "b": 0})


@pytest.mark.parametrize("arguments", [{"a": 1}, {"a": "1", "b": 2}, {"a": True, "b": 1}, {"a": float("inf"), "b": 1}])
def test_math_rejects_bad_operands(arguments):
    with pytest.raises(ToolError):
        run("test_math", "add", arguments)


def test_current_time_defaults_to_utc_iso8601():
    result = run("current_time", "get_current_time", {})
    assert (result["timezone"], result["format"]) == ("UTC", "iso8601")
    parsed = datetime.fromisoformat(result["time"])
    assert parsed.utcoffset() == timedelta(0)
    assert abs(parsed - datetime.now(UTC)) < timedelta(seconds=5)


def test_current_time_in_a_zone_and_formats():
    kyiv = datetime.fromisoformat(run("current_time", "get_current_time", {"timezone": "Europe/Kyiv"})["time"])
    assert kyiv.utcoffset() in (timedelta(hours=2), timedelta(hours=3))
    unix = run("current_time", "get_current_time", {"format": "unix"})["time"]
    assert isinstance(unix, int) and abs(unix - datetime.now(UTC).timestamp()) < 5
    human = run("current_time", "get_current_time", {"timezone": "Asia/Tokyo", "format": "human"})["time"]
    assert str(datetime.now(UTC).year) in human and "JST" in human


@pytest.mark.parametrize("arguments", [{"timezone": "Mars/Olympus"}, {"format": "roman"}, {"timezone": 3}])
def test_current_time_errors(arguments):
    with pytest.raises(ToolError):
        run("current_time", "get_current_time", arguments)


def test_weather_is_deterministic_per_location():
    first = run("test_weather", "get_weather", {"location": "Paris"})
    assert first == run("test_weather", "get_weather", {"location": "paris "}) | {"location": "Paris"}
    assert first["location"] == "Paris" and first["units"] == "celsius"
    assert -10 <= first["temperature"] <= 30 and 30 <= first["humidity"] <= 90
    fahrenheit = run("test_weather", "get_weather", {"location": "Paris", "units": "fahrenheit"})
    assert fahrenheit["temperature"] == round(first["temperature"] * 9 / 5 + 32)


def test_forecast():
    result = run("test_weather", "get_forecast", {"location": "Oslo", "days": 5})
    assert len(result["forecast"]) == 5
    tomorrow = (datetime.now(UTC).date() + timedelta(days=1)).isoformat()
    assert result["forecast"][0]["date"] == tomorrow
    assert len(run("test_weather", "get_forecast", {"location": "Oslo"})["forecast"]) == 3


@pytest.mark.parametrize(
    ("tool", "arguments"),
    [
        ("get_weather", {}),
        ("get_weather", {"location": " "}),
        ("get_weather", {"location": "X", "units": "kelvin"}),
        ("get_forecast", {"location": "X", "days": 8}),
        ("get_forecast", {"location": "X", "days": "2"}),
    ],
)
def test_weather_errors(tool, arguments):
    with pytest.raises(ToolError):
        run("test_weather", tool, arguments)


def test_write_todos_echoes_the_list_with_counts():
    todos = [
        {"content": "Plan", "activeForm": "Planning", "status": "completed"},
        {"content": "Build", "activeForm": "Building", "status": "in_progress"},
        {"content": "Ship", "activeForm": "Shipping", "status": "pending"},
    ]
    result = run("stateless_todo_list", "write_todos", {"todos": todos})
    assert result == {
        "success": True,
        "todos": todos,
        "counts": {"total": 3, "pending": 1, "in_progress": 1, "completed": 1},
    }


def test_write_todos_warns_on_two_in_progress_and_defaults_active_form():
    result = run(
        "stateless_todo_list",
        "write_todos",
        {"todos": [{"content": "A", "status": "in_progress"}, {"content": "B", "status": "in_progress"}]},
    )
    assert "warning" in result and result["todos"][0]["activeForm"] == "A"


@pytest.mark.parametrize("todos", [None, "x", [{"content": ""}], [{"content": "A", "status": "done"}], [3]])
def test_write_todos_errors(todos):
    with pytest.raises(ToolError):
        run("stateless_todo_list", "write_todos", {"todos": todos})
