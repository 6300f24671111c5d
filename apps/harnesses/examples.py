"""Harness examples (GET /v1/harness-examples): read-only templates defined in code."""

HARNESS_EXAMPLES: list[dict] = [
    {
        "name": "generic",
        "display_name": "Generic",
        "description": "The built-in default: no extra prompt or capabilities.",
        "tags": ["built-in"],
        "capabilities": [],
        "dev_only": False,
        "parent_name": None,
    },
    {
        "name": "file-worker",
        "display_name": "File worker",
        "description": "Works in the session's file system and knows the current time.",
        "tags": ["files"],
        "capabilities": [{"ref": "session_file_system", "config": {}}, {"ref": "current_time", "config": {}}],
        "dev_only": False,
        "parent_name": "generic",
    },
    {
        "name": "web-researcher",
        "display_name": "Web researcher",
        "description": "Fetches web pages and keeps a todo list while it researches.",
        "tags": ["research"],
        "capabilities": [{"ref": "web_fetch", "config": {}}, {"ref": "stateless_todo_list", "config": {}}],
        "dev_only": False,
        "parent_name": "generic",
    },
]
