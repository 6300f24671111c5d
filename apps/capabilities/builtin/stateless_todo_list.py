"""stateless_todo_list: a todo list the model rewrites whole; state lives only in the transcript."""

from ..base import Capability, Tool, ToolContext, ToolError

STATUSES = ("pending", "in_progress", "completed")
MAX_TODOS = 100


def write_todos(arguments: dict, context: ToolContext) -> dict:
    """Validate and echo the full list with counts; nothing is stored (the transcript is the state)."""
    todos = arguments.get("todos")
    if not isinstance(todos, list):
        raise ToolError("'todos' must be an array of {content, activeForm, status}")
    if len(todos) > MAX_TODOS:
        raise ToolError(f"At most {MAX_TODOS} todos")
    cleaned = []
    for index, todo in enumerate(todos):
        if not isinstance(todo, dict):
            raise ToolError(f"todos[{index}] must be an object")
        content = todo.get("content")
        if not isinstance(content, str) or not content.strip():
            raise ToolError(f"todos[{index}].content must be a non-empty string")
        status = todo.get("status", "pending")
        if status not in STATUSES:
            raise ToolError(f"todos[{index}].status must be one of: {', '.join(STATUSES)}")
        active_form = todo.get("activeForm") or content
        if not isinstance(active_form, str):
            raise ToolError(f"todos[{index}].activeForm must be a string")
        cleaned.append({"content": content, "activeForm": active_form, "status": status})
    in_progress = sum(1 for todo in cleaned if todo["status"] == "in_progress")
    counts = {status: sum(1 for todo in cleaned if todo["status"] == status) for status in STATUSES}
    result = {"success": True, "todos": cleaned, "counts": {"total": len(cleaned), **counts}}
    if in_progress > 1:
        result["warning"] = "Keep exactly one task in_progress at a time."
    return result


CAPABILITY = Capability(
    id="stateless_todo_list",
    name="Todo List",
    description="Lets the agent plan multi-step work as a todo list it updates as it goes.",
    category="Productivity",
    icon="list-todo",
    system_prompt=(
        "For tasks with several steps, keep a todo list with `write_todos`. Always send the complete list; "
        "keep exactly one item `in_progress`, mark items `completed` as soon as they are done, and add new "
        "items when you discover more work."
    ),
    tools=(
        Tool(
            name="write_todos",
            description="Replace the todo list with the given items (send the whole list every time).",
            parameters={
                "type": "object",
                "properties": {
                    "todos": {
                        "type": "array",
                        "maxItems": MAX_TODOS,
                        "items": {
                            "type": "object",
                            "properties": {
                                "content": {"type": "string", "description": "The task, imperative: 'Run tests'."},
                                "activeForm": {"type": "string", "description": "Present continuous: 'Running tests'."},
                                "status": {"type": "string", "enum": list(STATUSES)},
                            },
                            "required": ["content", "activeForm", "status"],
                            "additionalProperties": False,
                        },
                    }
                },
                "required": ["todos"],
                "additionalProperties": False,
            },
            handler=write_todos,
        ),
    ),
)
