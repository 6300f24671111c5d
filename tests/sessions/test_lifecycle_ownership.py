"""Only apps/sessions/turns.py moves a session or a turn between states and appends lifecycle events.

The source tree under apps/ is parsed (ast) and every other module is checked for:
- a write of `status` on a Session or a Turn: `Session(...)` / `Turn(...)` / `<Session|Turn>.objects....
  .update/create/...(status=...)` and `<x>.status = ...` in a module that uses those models;
- a lifecycle event type (`session.*`, `turn.*`: `EventType.lifecycle`) named at all, as an `EventType`
  member or as its string: a module that cannot name the type cannot append it.
"""

import ast
from pathlib import Path

import pytest

from apps.sessions.event_types import LIFECYCLE_EVENT_TYPES

ROOT = Path(__file__).resolve().parents[2]
APPS = ROOT / "apps"
OWNER = APPS / "sessions" / "turns.py"
REGISTRY = APPS / "sessions" / "event_types.py"
MODELS = {"Session", "Turn"}
WRITE_METHODS = {"update", "create", "get_or_create", "update_or_create", "bulk_create", "bulk_update"}
LIFECYCLE_NAMES = {t.name for t in LIFECYCLE_EVENT_TYPES}
LIFECYCLE_VALUES = {t.value for t in LIFECYCLE_EVENT_TYPES}


def _root_name(node: ast.AST) -> str | None:
    """The name a chain like `Turn.objects.filter(...).update` starts from."""
    while True:
        if isinstance(node, ast.Attribute):
            node = node.value
        elif isinstance(node, ast.Call):
            node = node.func
        elif isinstance(node, ast.Subscript):
            node = node.value
        else:
            return node.id if isinstance(node, ast.Name) else None


def _uses_models(tree: ast.AST) -> bool:
    return any(
        (isinstance(node, ast.Name) and node.id in MODELS) or (isinstance(node, ast.alias) and node.name in MODELS)
        for node in ast.walk(tree)
    )


def violations(source: str, filename: str = "<source>") -> list[str]:
    tree = ast.parse(source, filename)
    uses_models = _uses_models(tree)
    found: list[str] = []
    for node in ast.walk(tree):
        line = getattr(node, "lineno", 0)
        if isinstance(node, ast.Call):
            keywords = {k.arg for k in node.keywords}
            if "status" in keywords:
                func = node.func
                if isinstance(func, ast.Name) and func.id in MODELS:
                    found.append(f"{filename}:{line}: {func.id}(status=...)")
                elif isinstance(func, ast.Attribute) and func.attr in WRITE_METHODS and _root_name(func) in MODELS:
                    found.append(f"{filename}:{line}: {_root_name(func)}...{func.attr}(status=...)")
        elif isinstance(node, ast.Assign | ast.AugAssign | ast.AnnAssign) and uses_models:
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                if isinstance(target, ast.Attribute) and target.attr == "status":
                    found.append(f"{filename}:{line}: .status = ...")
        elif isinstance(node, ast.Attribute) and node.attr in LIFECYCLE_NAMES and _root_name(node) == "EventType":
            found.append(f"{filename}:{line}: EventType.{node.attr}")
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in LIFECYCLE_VALUES:
            found.append(f"{filename}:{line}: {node.value!r}")
    return found


def _modules() -> list[Path]:
    return sorted(
        path for path in APPS.rglob("*.py") if "migrations" not in path.parts and path not in (OWNER, REGISTRY)
    )


def test_status_writes_and_lifecycle_events_only_in_the_lifecycle_module():
    found = [v for path in _modules() for v in violations(path.read_text(), str(path.relative_to(ROOT)))]
    assert found == []


def test_the_lifecycle_module_is_where_they_are():
    """The scan is not vacuous: the owner module does what the others may not."""
    assert len(violations(OWNER.read_text())) >= 10


@pytest.mark.parametrize(
    "source",
    [
        "Session.objects.filter(pk=1).update(status='idle')",
        "Turn.objects.filter(pk=1).select_for_update().update(status=Turn.STATUS_FAILED, finished_at=now)",
        "Turn(session_id=1, status='running').save()",
        "Turn.objects.create(session_id=1, status='queued')",
        "from apps.sessions.models import Turn\nturn.status = 'failed'",
        "event_append(session_id=1, type=EventType.SESSION_IDLED, data={})",
        "self.emit('turn.completed', {})",
    ],
)
def test_the_scan_catches_each_kind_of_write(source):
    assert violations(source) != []


@pytest.mark.parametrize(
    "source",
    [
        "Turn.objects.filter(status=Turn.STATUS_RUNNING).update(heartbeat_at=now)",
        "Agent.objects.filter(pk=1).update(status='archived')",
        "event_append(session_id=1, type=EventType.TOOL_COMPLETED, data={})",
        "agent.status = 'archived'",
    ],
)
def test_the_scan_allows_reads_and_other_writes(source):
    assert violations(source) == []
