"""The registry's contract used by agents, sessions and the runtime (interfaces.md)."""

import pytest

from apps.capabilities import registry
from apps.capabilities.base import Capability, Tool
from apps.core.exceptions import InvalidRequest, Unprocessable


def _tool(name: str) -> Tool:
    return Tool(
        name=name,
        description=name,
        parameters={"type": "object", "properties": {}},
        handler=lambda arguments, context: name,
    )


@pytest.fixture
def graph():
    """A small dependency graph: app -> (storage -> base, base), other -> base; registered for one test."""
    capabilities = [
        Capability(
            id="t_base",
            name="Base",
            description="",
            system_prompt="BASE",
            tools=(_tool("shared"),),
            features=("file_system",),
        ),
        Capability(
            id="t_storage",
            name="Storage",
            description="",
            system_prompt="STORAGE",
            dependencies=("t_base",),
            tools=(_tool("store"), _tool("shared")),
            features=("key_value",),
        ),
        Capability(
            id="t_app",
            name="App",
            description="",
            system_prompt="APP",
            dependencies=("t_storage", "t_base"),
            tools=(_tool("app"),),
            features=("file_system",),
        ),
        Capability(id="t_loop_a", name="A", description="", dependencies=("t_loop_b",)),
        Capability(id="t_loop_b", name="B", description="", dependencies=("t_loop_a",)),
    ]
    for capability in capabilities:
        registry.register(capability)
    yield
    for capability in capabilities:
        registry.unregister(capability.id)


def test_normalize_accepts_strings_and_objects():
    refs = registry.normalize_refs(
        ["noop", {"ref": "test_math"}, {"ref": "web_fetch", "config": {"a": 1}}, {"ref": "noop", "config": None}]
    )
    assert refs == [
        {"ref": "noop", "config": {}},
        {"ref": "test_math", "config": {}},
        {"ref": "web_fetch", "config": {"a": 1}},
        {"ref": "noop", "config": {}},
    ]


@pytest.mark.parametrize("raw", ["noop", [1], [{"config": {}}], [{"ref": "noop", "config": "x"}], [""], [None]])
def test_normalize_rejects_malformed_shapes(raw):
    with pytest.raises(InvalidRequest):
        registry.normalize_refs(raw)


def test_normalize_rejects_unknown_ids_with_422():
    with pytest.raises(Unprocessable) as error:
        registry.normalize_refs(["noop", "teleport"])
    assert error.value.message == "Unknown capability: teleport"


def test_dependencies_come_first_once(graph):
    resolved = registry.resolve([{"ref": "t_app", "config": {}}])
    assert [c.id for c in resolved.capabilities] == ["t_base", "t_storage", "t_app"]
    assert resolved.system_prompt_addition == "BASE\n\nSTORAGE\n\nAPP"
    assert [t.name for t in resolved.tools] == ["shared", "store", "app"]  # first definition of "shared" wins
    assert resolved.features == ["file_system", "key_value"]


def test_resolve_keeps_list_order_and_dedupes(graph):
    resolved = registry.resolve(
        [{"ref": "current_time"}, {"ref": "t_storage"}, {"ref": "current_time"}, {"ref": "t_app"}]
    )
    assert [c.id for c in resolved.capabilities] == ["current_time", "t_base", "t_storage", "t_app"]


def test_dependency_cycles_terminate(graph):
    resolved = registry.resolve([{"ref": "t_loop_a"}])
    assert [c.id for c in resolved.capabilities] == ["t_loop_b", "t_loop_a"]


def test_config_for_merges_later_refs_over_earlier():
    resolved = registry.resolve(
        [{"ref": "web_fetch", "config": {"a": 1, "b": 1}}, {"ref": "web_fetch", "config": {"b": 2}}]
    )
    assert resolved.config_for("web_fetch") == {"a": 1, "b": 2}
    assert resolved.config_for("noop") == {}


def test_unknown_ids_are_skipped_at_resolve_time():
    resolved = registry.resolve([{"ref": "removed_long_ago"}, {"ref": "noop"}])
    assert [c.id for c in resolved.capabilities] == ["noop"]


def test_build_system_prompt():
    assert registry.build_system_prompt([], "Base") == "Base"
    assert registry.build_system_prompt([{"ref": "noop"}], "Base") == "Base"
    expected = registry.get_capability("current_time").system_prompt + "\n\nBase"
    assert registry.build_system_prompt([{"ref": "current_time", "config": {}}], "Base") == expected
    assert registry.resolve([]).system_prompt_addition == ""


def test_every_builtin_is_well_formed():
    for capability in registry.all_capabilities():
        assert capability.status in ("available", "experimental", "coming_soon", "deprecated")
        assert capability.risk_level in ("low", "medium", "high")
        assert all(registry.get_capability(dep) for dep in capability.dependencies)
        for tool in capability.tools:
            assert tool.parameters["type"] == "object" and isinstance(tool.parameters.get("properties"), dict)
            assert set(tool.parameters.get("required", [])) <= set(tool.parameters["properties"])


def test_session_file_system_handlers_point_at_the_files_app():
    tools = registry.get_capability("session_file_system").tools
    assert {tool.handler for tool in tools} == {f"apps.files.tools.{tool.name}" for tool in tools}


def test_dotted_handlers_import():
    from django.utils.module_loading import import_string

    for capability in registry.all_capabilities():
        for tool in capability.tools:
            handler = import_string(tool.handler) if isinstance(tool.handler, str) else tool.handler
            assert callable(handler), tool.name


def test_features_of_matches_resolve_and_follows_registration(graph):
    refs = [{"ref": "t_app", "config": {"x": 1}}, "t_storage"]
    assert registry.features_of(refs) == registry.resolve(refs).features == ["file_system", "key_value"]
    # Cached per id sequence; replacing a capability at run time is seen at once.
    registry.register(Capability(id="t_base", name="Base", description="", features=("web",)))
    assert registry.features_of(refs) == ["web", "key_value", "file_system"]
    registry.unregister("t_app")
    assert registry.features_of(["t_app"]) == []
    assert registry.features_of([{"ref": ["not", "hashable"]}]) == []  # a hand-edited row: skipped, no crash
