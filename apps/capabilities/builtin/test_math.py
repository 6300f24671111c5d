"""test_math: four arithmetic tools, for testing tool calling end to end."""

import math
from collections.abc import Callable
from typing import Any

from ..base import Capability, Tool, ToolContext, ToolError


def _operands(arguments: dict) -> tuple[float, float]:
    values = []
    for key in ("a", "b"):
        value = arguments.get(key)
        # bool is an int subclass; true + 1 is never what the model meant.
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise ToolError(f"'{key}' must be a finite number")
        values.append(value)
    return values[0], values[1]


def _result(value: float) -> dict:
    # 6 / 3 answers 2, not 2.0: integral results read better to the model and in transcripts.
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        value = int(value)
    return {"result": value}


def add(arguments: dict, context: ToolContext) -> dict:
    a, b = _operands(arguments)
    return _result(a + b)


def subtract(arguments: dict, context: ToolContext) -> dict:
    a, b = _operands(arguments)
    return _result(a - b)


def multiply(arguments: dict, context: ToolContext) -> dict:
    a, b = _operands(arguments)
    return _result(a * b)


def divide(arguments: dict, context: ToolContext) -> dict:
    a, b = _operands(arguments)
    if b == 0:
        raise ToolError("Division by zero")
    return _result(a / b)


def _tool(name: str, description: str, handler: Callable[[dict, ToolContext], Any]) -> Tool:
    return Tool(
        name=name,
        description=description,
        parameters={
            "type": "object",
            "properties": {
                "a": {"type": "number", "description": "First operand."},
                "b": {"type": "number", "description": "Second operand."},
            },
            "required": ["a", "b"],
            "additionalProperties": False,
        },
        handler=handler,
    )


CAPABILITY = Capability(
    id="test_math",
    name="Test Math",
    description="Calculator tools (add, subtract, multiply, divide) for testing tool calls.",
    category="Testing",
    icon="calculator",
    system_prompt="Use the math tools (`add`, `subtract`, `multiply`, `divide`) for arithmetic instead of mental math.",
    tools=(
        _tool("add", "Add two numbers: a + b.", add),
        _tool("subtract", "Subtract two numbers: a - b.", subtract),
        _tool("multiply", "Multiply two numbers: a * b.", multiply),
        _tool("divide", "Divide two numbers: a / b. Dividing by zero is an error.", divide),
    ),
)
