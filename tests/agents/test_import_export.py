"""Import/export (contract 7), copy and preview."""

import re

import pytest

from apps.core.ids import format_id

pytestmark = pytest.mark.django_db

TOO_LARGE = {"error": "Input exceeds allowed limits", "status": 400}
PROMPT_REQUIRED = {"error": "System prompt is required (provide in front matter or as markdown body)", "status": 400}
CONFIG_FIELDS = ("name", "description", "system_prompt", "default_model_id", "tags", "capabilities")


def import_text(client, text: str | bytes, content_type: str = "text/plain"):
    return client.post("/v1/agents/import", data=text, content_type=content_type)


def test_export_is_markdown_with_front_matter(api_client, create_agent):
    agent = create_agent(
        name="Trip Planner",
        description='Builds "day-by-day" itineraries',
        tags=["travel", "demo"],
        capabilities=["current_time", {"ref": "test_math", "config": {"precision": 2}}],
        system_prompt="You plan trips.\n\nAsk for dates first.",
    )
    response = api_client.get(f"/v1/agents/{agent['id']}/export")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/markdown; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="trip-planner.md"'
    assert response.content.decode() == (
        "---\n"
        'name: "Trip Planner"\n'
        'description: "Builds \\"day-by-day\\" itineraries"\n'
        "tags:\n"
        '  - "travel"\n'
        '  - "demo"\n'
        "capabilities:\n"
        "  - current_time\n"
        '  - {"ref": "test_math", "config": {"precision": 2}}\n'
        "---\n"
        "You plan trips.\n\nAsk for dates first.\n"
    )


def test_export_ignores_accept_header_and_errors_stay_json(api_client, create_agent):
    agent = create_agent()
    assert api_client.get(f"/v1/agents/{agent['id']}/export", HTTP_ACCEPT="text/markdown").status_code == 200
    response = api_client.get("/v1/agents/agent_" + "0" * 32 + "/export", HTTP_ACCEPT="text/markdown")
    assert response.status_code == 404
    assert response.json() == {"error": "Agent not found", "status": 404}


@pytest.mark.parametrize(
    ("name", "filename"),
    [("  My  Agent!! v2 ", "my-agent-v2.md"), ("Café--Bot", "caf-bot.md"), ("日本語", "agent.md")],
)
def test_export_filename_slug(api_client, create_agent, name, filename):
    agent = create_agent(name=name)
    response = api_client.get(f"/v1/agents/{agent['id']}/export")
    assert response["Content-Disposition"] == f'attachment; filename="{filename}"'


def test_export_then_import_gives_an_equal_agent(api_client, create_agent, default_org, make_model):
    model_id = format_id("model", make_model(default_org).pk)
    original = create_agent(
        name='Tricky "name" \\ with: colons # and ünïcödé 🙂',
        description="Line one\nline two\twith tab — and a \u2028 separator and \x85 NEL",
        system_prompt="---\nnot front matter\n---\nYou are careful.\n  Indented line.",
        default_model_id=model_id,
        tags=["a: b", "- dash", "'quoted'", "yes", "123"],
        capabilities=["current_time", {"ref": "web_fetch", "config": {"k": ["v", 1, None], "q": 'x"y'}}, "noop"],
    )
    exported = api_client.get(f"/v1/agents/{original['id']}/export").content
    response = import_text(api_client, exported, "text/markdown")
    assert response.status_code == 201, response.content
    imported = response.json()
    assert imported["id"] != original["id"]
    assert {k: imported[k] for k in CONFIG_FIELDS} == {k: original[k] for k in CONFIG_FIELDS}


@pytest.mark.parametrize(
    "content_type",
    [
        "text/plain",
        "text/markdown",
        "application/json",
        "application/yaml",
        "text/x-anything; charset=utf-8",
        "application/octet-stream",
    ],
)
def test_import_accepts_any_text_content_type(api_client, content_type):
    text = '---\nname: "Typed"\n---\nBody prompt'
    response = import_text(api_client, text, content_type)
    assert response.status_code == 201
    assert (response.json()["name"], response.json()["system_prompt"]) == ("Typed", "Body prompt")


def test_import_front_matter_body_overrides_yaml_prompt(api_client):
    text = "---\nname: N\nsystem_prompt: from yaml\ntags: [x]\ncapabilities:\n  - noop\n---\n\n  From body  \n"
    body = import_text(api_client, text).json()
    assert (body["name"], body["system_prompt"], body["tags"]) == ("N", "From body", ["x"])
    assert body["capabilities"] == [{"ref": "noop", "config": {}}]


def test_import_front_matter_prompt_from_yaml_when_body_empty(api_client):
    body = import_text(api_client, "---\nname: N\nsystem_prompt: from yaml\n---\n").json()
    assert body["system_prompt"] == "from yaml"


def test_import_json(api_client):
    text = (
        '{"name": "J", "system_prompt": "json prompt", "id": "agent_' + "9" * 32 + '", "capabilities": ['
        '{"ref": "test_math", "config": {"x": 1}}]}'
    )
    response = import_text(api_client, text, "application/json")
    body = response.json()
    assert response.status_code == 201
    assert body["id"] != "agent_" + "9" * 32  # import ignores ids
    assert (body["name"], body["system_prompt"]) == ("J", "json prompt")
    assert body["capabilities"] == [{"ref": "test_math", "config": {"x": 1}}]


def test_import_yaml(api_client):
    body = import_text(api_client, "name: Y\nsystem_prompt: |\n  multi\n  line\ntags:\n  - t\n").json()
    assert (body["name"], body["system_prompt"], body["tags"]) == ("Y", "multi\nline\n", ["t"])


def test_import_plain_text_becomes_prompt_with_generated_name(api_client):
    response = import_text(api_client, "  Just be nice to people.\n")
    assert response.status_code == 201
    body = response.json()
    assert body["system_prompt"] == "Just be nice to people."
    assert re.fullmatch(r"agent-\d{8}-\d{6}", body["name"])


def test_yaml_without_name_or_prompt_is_plain_text(api_client):
    body = import_text(api_client, "answer: 42").json()
    assert body["system_prompt"] == "answer: 42"


def test_broken_front_matter_falls_through_to_plain_text(api_client):
    text = "---\nname: [unclosed\n---\nBody"
    body = import_text(api_client, text).json()
    assert body["system_prompt"] == text


def test_import_without_prompt_is_400(api_client):
    for text in ["", "   ", "---\nname: Only a name\n---\n", '{"name": "x"}', "name: only"]:
        response = import_text(api_client, text)
        assert response.status_code == 400, text
        assert response.json() == PROMPT_REQUIRED


def test_import_over_3_mb_is_400(api_client):
    response = import_text(api_client, "é" * (3 * 1024 * 1024 // 2) + "x")
    assert response.json() == TOO_LARGE


def test_import_applies_field_limits(api_client):
    response = import_text(api_client, '---\nname: "' + "ü" * 1025 + '"\n---\nprompt')
    assert response.json() == TOO_LARGE


def test_import_unknown_capability_is_422(api_client):
    response = import_text(api_client, "---\nname: N\ncapabilities: [nope]\n---\nprompt")
    assert response.status_code == 422
    assert response.json() == {"error": "Unknown capability: nope", "status": 422}


def test_import_wrong_types_are_400(api_client):
    for text in [
        "---\nname: N\ntags: {a: 1}\n---\nprompt",
        "---\nname: [a]\n---\nprompt",
        "---\nname: N\ndefault_model_id: gpt-4\n---\nprompt",
    ]:
        response = import_text(api_client, text)
        assert response.status_code == 400, text
        assert response.json() == {"error": "Invalid request", "status": 400}


def test_import_numeric_yaml_scalars_are_text(api_client):
    body = import_text(api_client, "---\nname: 2024\ntags: [1, two]\n---\nprompt").json()
    assert (body["name"], body["tags"]) == ("2024", ["1", "two"])


def test_import_non_utf8_is_400(api_client):
    response = import_text(api_client, "prompt \xff".encode("latin-1"))
    assert response.status_code == 400 and response.json() == {"error": "Invalid request", "status": 400}


def test_import_unknown_default_model_is_404(api_client):
    response = import_text(api_client, '---\nname: N\ndefault_model_id: "model_' + "8" * 32 + '"\n---\nprompt')
    assert response.json() == {"error": "Model not found", "status": 404}


# ---------------------------------------------------------------- copy


def test_copy_creates_an_active_duplicate(api_client, create_agent):
    """Listing counts the archived original only with include_archived (the spec's list shows active agents)."""
    original = create_agent(name="Writer", tags=["t"], capabilities=["noop"], description="d")
    api_client.delete(f"/v1/agents/{original['id']}")
    response = api_client.post(f"/v1/agents/{original['id']}/copy")
    assert response.status_code == 201
    copy = response.json()
    assert copy["id"] != original["id"] and copy["name"] == "Writer (copy)" and copy["status"] == "active"
    assert {k: copy[k] for k in CONFIG_FIELDS if k != "name"} == {k: original[k] for k in CONFIG_FIELDS if k != "name"}
    assert api_client.get("/v1/agents?include_archived=true").json()["total"] == 2


def test_copy_of_a_maximal_name_stays_within_limits(api_client, create_agent):
    original = create_agent(name="名" * 682)  # 2046 bytes
    copy = api_client.post(f"/v1/agents/{original['id']}/copy").json()
    assert copy["name"].endswith(" (copy)") and len(copy["name"].encode()) <= 2048


def test_copy_unknown_is_404(api_client):
    response = api_client.post("/v1/agents/agent_" + "1" * 32 + "/copy")
    assert response.json() == {"error": "Agent not found", "status": 404}


# ---------------------------------------------------------------- preview


def test_preview_prepends_additions_and_lists_tools(api_client):
    from apps.capabilities.registry import get_capability

    response = api_client.post(
        "/v1/agents/preview",
        {"system_prompt": "Base prompt.", "capabilities": ["current_time", "test_math"]},
        format="json",
    )
    assert response.status_code == 200
    body = response.json()
    additions = [get_capability(c).system_prompt for c in ("current_time", "test_math")]
    assert body["system_prompt"] == "\n\n".join([*additions, "Base prompt."])
    assert [tool["name"] for tool in body["tools"]] == ["get_current_time", "add", "subtract", "multiply", "divide"]
    assert body["tools"][1]["parameters"]["required"] == ["a", "b"]
    assert api_client.get("/v1/agents").json()["total"] == 0


def test_preview_without_capabilities_is_the_base_prompt(api_client):
    body = api_client.post("/v1/agents/preview", {"system_prompt": "Only me."}, format="json").json()
    assert body == {"system_prompt": "Only me.", "tools": []}


def test_preview_errors(api_client):
    response = api_client.post("/v1/agents/preview", {"system_prompt": "p", "capabilities": ["nope"]}, format="json")
    assert response.status_code == 422
    response = api_client.post("/v1/agents/preview", {"capabilities": []}, format="json")
    assert response.json() == {"error": "Invalid request", "status": 400}
    response = api_client.post("/v1/agents/preview", {"system_prompt": "x" * 1_048_577}, format="json")
    assert response.json() == TOO_LARGE


# ---------------------------------------------------------------- hostile import documents
def _laughs(levels: int) -> str:
    """The "billion laughs" YAML: each level lists the previous one 9 times through aliases (9**levels strings)."""
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"a{n}: &a{n} [" + ", ".join([f"*a{n - 1}"] * 9) + "]" for n in range(1, levels + 1)]
    return "\n".join(lines)


def test_yaml_aliases_are_not_read_as_yaml(api_client):
    # Chosen behaviour: a document with aliases is "not YAML" (contract 7.2 fall-through), so it becomes the prompt.
    text = "name: &n Echo\nsystem_prompt: *n"
    body = import_text(api_client, text).json()
    assert body["system_prompt"] == text and body["name"] != "Echo"
    text = "---\nname: N\ncapabilities:\n  - ref: noop\n    config: {x: &x [1, 2], y: *x}\n---\nprompt"
    body = import_text(api_client, text).json()
    assert body["system_prompt"] == text and body["capabilities"] == []


@pytest.mark.parametrize("front_matter", [False, True])
def test_billion_laughs_is_stored_as_plain_text_without_expanding(api_client, front_matter):
    text = _laughs(9) + "\nname: Bomb\nsystem_prompt: *a9\n"
    if front_matter:
        text = "---\n" + text + "---\nbody"
    assert len(text) < 1000
    response = import_text(api_client, text)
    assert response.status_code == 201
    assert response.json()["system_prompt"] == text.strip()


@pytest.mark.parametrize("opening", ["[", "{", "- ", '{"a":'])
def test_deeply_nested_documents_are_plain_text_not_500(api_client, opening):
    text = opening * 50_000
    response = import_text(api_client, text)
    assert response.status_code == 201
    assert response.json()["system_prompt"] == text.strip()


def test_yaml_dates_in_a_config_stay_text(api_client):
    text = "---\nname: N\ncapabilities:\n  - {ref: noop, config: {since: 2024-01-01, at: 2024-01-01 10:00:00}}\n---\np"
    response = import_text(api_client, text)
    assert response.status_code == 201
    assert response.json()["capabilities"] == [
        {"ref": "noop", "config": {"since": "2024-01-01", "at": "2024-01-01 10:00:00"}}
    ]


def test_import_applies_config_and_tag_limits(api_client):
    big = "x" * 70_000
    assert (
        import_text(api_client, f"---\nname: N\ncapabilities: [{{ref: noop, config: {{a: {big}}}}}]\n---\np").json()
        == TOO_LARGE
    )
    assert import_text(api_client, "---\nname: N\ntags: [" + ", ".join(["t"] * 101) + "]\n---\np").json() == TOO_LARGE
