"""apps.harnesses.resolve: the layering rules, as pure functions (the turn-level effect is in tests/runtime)."""

from types import SimpleNamespace

from apps.harnesses.resolve import resolve, session_config


def test_each_setting_follows_its_rule():
    harness = {
        "system_prompt": "House rules.",
        "capabilities": [{"ref": "current_time", "config": {}}],
        "initial_files": [{"path": "/a", "content": "harness"}, {"path": "/b", "content": "b"}],
        "default_model_id": "model_h",
        "max_iterations": 10,
        "parallel_tool_calls": True,
        "network_access": {"allowed": ["a.com", "b.com"], "blocked": ["x.com"]},
    }
    agent = {
        "system_prompt": "Agent.",
        "capabilities": [{"ref": "test_math", "config": {}}],
        "tools": [{"name": "t", "description": "one"}],
        "initial_files": [{"path": "/a", "content": "agent"}],
        "default_model_id": None,  # not set: the harness's stays
        "max_iterations": 3,
        "network_access": {"allowed": ["b.com", "c.com"], "blocked": ["y.com"]},
    }
    config = resolve([harness, agent])
    assert config["system_prompt"] == "House rules.\n\nAgent."
    assert [c["ref"] for c in config["capabilities"]] == ["current_time", "test_math"]
    assert config["initial_files"] == [{"path": "/b", "content": "b"}, {"path": "/a", "content": "agent"}]
    assert (config["default_model_id"], config["max_iterations"], config["parallel_tool_calls"]) == ("model_h", 3, True)
    assert config["network_access"] == {"allowed": ["b.com"], "blocked": ["x.com", "y.com"]}
    assert config["tools"] == [{"name": "t", "description": "one"}]


def test_a_resolved_config_is_a_layer_and_the_session_prompt_comes_first():
    base = resolve(
        [{"system_prompt": "Harness."}, {"system_prompt": "Agent.", "tools": [{"name": "t", "description": "a"}]}]
    )
    session = SimpleNamespace(
        capabilities=["noop"],
        model_id=None,
        system_prompt="Session.",
        tools=[{"name": "t", "description": "session's"}],
        initial_files=None,
        max_iterations=None,
        parallel_tool_calls=False,
        network_access=None,
    )
    config = session_config(base, session)
    assert config["system_prompt"] == "Session.\n\nHarness.\n\nAgent."
    assert config["tools"] == [{"name": "t", "description": "session's"}]
    assert config["capabilities"] == [{"ref": "noop", "config": {}}]
    assert config["parallel_tool_calls"] is False


def test_empty_layers_resolve_to_defaults():
    assert (
        resolve([])
        == resolve([{}])
        == {
            "system_prompt": "",
            "capabilities": [],
            "tools": [],
            "initial_files": [],
            "default_model_id": None,
            "max_iterations": None,
            "parallel_tool_calls": None,
            "network_access": None,
        }
    )
