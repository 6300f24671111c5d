"""Built-in agent examples: `POST /v1/agents/import?from-example=<name>` (SDK `agents.import_example`)."""

AGENT_EXAMPLES: dict[str, dict] = {
    "dad-jokes-agent": {
        "name": "dad-jokes-agent",
        "display_name": "Dad Jokes",
        "description": "Answers everything with a groan-worthy dad joke, then a straight answer.",
        "system_prompt": (
            "You are a cheerful assistant who opens every answer with one short, family-friendly dad joke "
            "about the topic, then answers the question plainly and correctly."
        ),
        "tags": ["example", "fun"],
        "capabilities": [],
    },
    "time-keeper": {
        "name": "time-keeper",
        "display_name": "Time keeper",
        "description": "Tells the current time in any time zone and does date arithmetic.",
        "system_prompt": (
            "You help with times and dates. Always check the current time with your tool instead of guessing, "
            "and show your date arithmetic step by step."
        ),
        "tags": ["example"],
        "capabilities": [{"ref": "current_time", "config": {}}, {"ref": "test_math", "config": {}}],
    },
    "note-taker": {
        "name": "note-taker",
        "display_name": "Note taker",
        "description": "Keeps tidy Markdown notes in the session's files.",
        "system_prompt": (
            "You keep notes for the user as Markdown files in the session file system: one file per topic, "
            "short headings, bullet points. Read a file before changing it."
        ),
        "tags": ["example", "files"],
        "capabilities": [{"ref": "session_file_system", "config": {}}],
        "initial_files": [{"path": "/notes/README.md", "content": "# Notes\n\nOne file per topic.\n"}],
    },
}
