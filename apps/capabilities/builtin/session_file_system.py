"""session_file_system: tools over the session's virtual filesystem.

Only the definition lives here; the handlers are implemented by the files app
(`apps.files.tools.<tool name>`), resolved lazily when a tool runs.
"""

from ..base import Capability, Tool

_PATH = {"type": "string", "description": "Absolute path inside the session workspace, e.g. '/notes/todo.md'."}


def _schema(properties: dict, required: list[str]) -> dict:
    return {"type": "object", "properties": properties, "required": required, "additionalProperties": False}


def _tool(name: str, description: str, parameters: dict) -> Tool:
    return Tool(name=name, description=description, parameters=parameters, handler=f"apps.files.tools.{name}")


CAPABILITY = Capability(
    id="session_file_system",
    name="File System",
    description="Read, write, search and organise files in the session's workspace.",
    category="File System",
    icon="folder",
    features=("file_system",),
    system_prompt=(
        "You have a private file system for this session. Paths are absolute and start with '/'. "
        "Use `list_directory` to explore, `read_file` / `write_file` to work with files, `grep_files` to "
        "search contents, and `stat_file`, `move_file`, `copy_file`, `delete_file` to manage them. "
        "Files persist across turns of this session."
    ),
    tools=(
        _tool("read_file", "Read a file's content.", _schema({"path": _PATH}, ["path"])),
        _tool(
            "write_file",
            "Create or overwrite a file (parent directories are created).",
            _schema(
                {
                    "path": _PATH,
                    "content": {"type": "string", "description": "The full file content."},
                    "encoding": {
                        "type": "string",
                        "enum": ["text", "base64"],
                        "description": "Encoding of `content` (default text).",
                    },
                },
                ["path", "content"],
            ),
        ),
        _tool(
            "list_directory",
            "List the entries of a directory.",
            _schema(
                {
                    "path": {**_PATH, "default": "/"},
                    "recursive": {"type": "boolean", "description": "Include all descendants (default false)."},
                },
                [],
            ),
        ),
        _tool(
            "grep_files",
            "Search file contents with a regular expression.",
            _schema(
                {
                    "pattern": {"type": "string", "description": "Regular expression to search for."},
                    "path_pattern": {
                        "type": "string",
                        "description": "Optional glob limiting which files, e.g. '*.md'.",
                    },
                },
                ["pattern"],
            ),
        ),
        _tool(
            "delete_file",
            "Delete a file or directory.",
            _schema(
                {"path": _PATH, "recursive": {"type": "boolean", "description": "Delete a non-empty directory."}},
                ["path"],
            ),
        ),
        _tool(
            "stat_file",
            "Get metadata (size, type, timestamps) of a file or directory.",
            _schema({"path": _PATH}, ["path"]),
        ),
        _tool(
            "move_file",
            "Move or rename a file or directory.",
            _schema({"src_path": _PATH, "dst_path": _PATH}, ["src_path", "dst_path"]),
        ),
        _tool(
            "copy_file",
            "Copy a file.",
            _schema({"src_path": _PATH, "dst_path": _PATH}, ["src_path", "dst_path"]),
        ),
    ),
)
