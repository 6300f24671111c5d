"""The published spec's session fields (issue 21 item 4): round-trip, validation, owner, pins."""

import pytest

from apps.core.ids import format_id

pytestmark = pytest.mark.django_db

INVALID = {"error": "Invalid request", "status": 400}

TOOL = {
    "name": "open_url",
    "description": "Open a URL in the user's browser",
    "parameters": {"type": "object", "properties": {"url": {"type": "string"}}, "required": ["url"]},
}
FILE = {"path": "notes/README.md", "content": "# Notes\n"}


def create(client, agent_id, **body):
    return client.post("/v1/sessions", {"agent_id": agent_id, **body}, format="json")


def test_every_spec_field_round_trips(api_client, agent_id, make_model):
    model = make_model()
    body = {
        "title": "Debug login",
        "tags": ["debugging", "urgent"],
        "model_id": format_id("model", model.pk),
        "locale": "uk-UA",
        "system_prompt": "Be concise.",
        "capabilities": [{"ref": "current_time", "config": {}}],
        "tools": [TOOL],
        "initial_files": [
            FILE,
            {"path": "/workspace/data.bin", "content": "AAEC", "encoding": "base64", "is_readonly": True},
        ],
        "hints": {"rich_media": True, "setup_connection": False},
    }
    created = create(api_client, agent_id, **body)
    assert created.status_code == 201, created.content
    session = created.json()
    fetched = api_client.get(f"/v1/sessions/{session['id']}").json()
    listed = api_client.get("/v1/sessions").json()["data"][0]
    for row in (session, fetched, listed):
        assert row["title"] == "Debug login"
        assert row["tags"] == ["debugging", "urgent"]
        assert row["model_id"] == body["model_id"]
        assert row["locale"] == "uk-UA"
        assert row["system_prompt"] == "Be concise."
        assert row["capabilities"] == [{"ref": "current_time", "config": {}}]
        assert row["tools"] == [{**TOOL, "type": "client_side"}]
        assert row["initial_files"] == [
            {"path": "/notes/README.md", "content": "# Notes\n"},
            {"path": "/data.bin", "content": "AAEC", "encoding": "base64", "is_readonly": True},
        ]
        assert row["hints"] == {"rich_media": True, "setup_connection": False}
        assert row["workspace_id"] is None
        assert row["is_pinned"] is False
        assert row["parent_session_id"] is None
        assert row["forked_from_session_id"] is None and row["forked_from_sequence"] is None
        assert row["status"] == "started"
        assert row["usage"] is None and row["preview"] is None and row["output_preview"] is None
        assert row["started_at"] is None and row["finished_at"] is None


def test_owner_is_the_creating_user(make_user, client_for, agent_id):
    user = make_user("owner@example.com")
    session = create(client_for(user), agent_id).json()
    principal = f"principal_{user.pk.hex}"
    assert session["owner_principal_id"] == principal
    assert session["owner"] == {"id": principal, "kind": "user", "subject_id": str(user.pk)}
    assert session["effective_owner"] == session["owner"]
    assert session["resolved_owner_user_id"] == str(user.pk)


def test_patch_changes_the_layers_and_keeps_the_rest(api_client, agent_id):
    session = create(api_client, agent_id, title="t", tools=[TOOL], locale="en").json()
    url = f"/v1/sessions/{session['id']}"
    patched = api_client.patch(url, {"locale": "de-DE", "system_prompt": "Kurz.", "hints": {"a": 1}}, format="json")
    assert patched.status_code == 200, patched.content
    again = api_client.get(url).json()
    assert (again["locale"], again["system_prompt"], again["hints"]) == ("de-DE", "Kurz.", {"a": 1})
    assert again["title"] == "t" and again["tools"] == [{**TOOL, "type": "client_side"}]
    cleared = api_client.patch(url, {"tools": None, "initial_files": [FILE]}, format="json").json()
    assert cleared["tools"] == [] and cleared["initial_files"] == [{"path": "/notes/README.md", "content": "# Notes\n"}]


@pytest.mark.parametrize(
    "body",
    [
        {"locale": "not a locale"},
        {"locale": 5},
        {"tools": [{"name": "bad name!", "description": "x", "parameters": {}}]},
        {"tools": [{"name": "t", "parameters": {}}]},
        {"tools": [TOOL, TOOL]},
        {"tools": [{**TOOL, "type": "server"}]},
        {"tools": {"name": "t"}},
        {"initial_files": [{"path": "../etc/passwd", "content": "x"}]},
        {"initial_files": [{"path": "/", "content": "x"}]},
        {"initial_files": [{"path": "a", "content": 5}]},
        {"initial_files": [FILE, FILE]},
        {"initial_files": [{**FILE, "encoding": "rot13"}]},
        {"hints": ["a"]},
        {"system_prompt": 7},
    ],
)
def test_bad_layers_are_400_and_nothing_is_created(api_client, agent_id, body):
    response = create(api_client, agent_id, **body)
    assert (response.status_code, response.json()) == (400, INVALID)
    assert api_client.get("/v1/sessions").json()["total"] == 0


def test_an_oversized_configuration_is_400(api_client, agent_id, settings):
    settings.SESSION_CONFIG_MAX_BYTES = 1000
    response = create(api_client, agent_id, system_prompt="x" * 2000)
    assert response.json() == {"error": "Input exceeds allowed limits", "status": 400}
    session = create(api_client, agent_id).json()
    big = {"initial_files": [{**FILE, "content": "y" * 2000}]}
    patched = api_client.patch(f"/v1/sessions/{session['id']}", big, format="json")
    assert patched.status_code == 400
    assert api_client.get(f"/v1/sessions/{session['id']}").json()["initial_files"] == []


def test_workspaces_do_not_exist_here(api_client, agent_id):
    response = create(api_client, agent_id, workspace_id="wsp_" + "0" * 32)
    assert (response.status_code, response.json()) == (404, {"error": "Workspace not found", "status": 404})
    assert create(api_client, agent_id, workspace_id=None).status_code == 201


# --------------------------------------------------------------------------- pins
def test_pin_and_unpin_are_per_user(make_user, client_for, agent_id):
    alice, bob = client_for(make_user("alice@example.com")), client_for(make_user("bob@example.com"))
    session = create(alice, agent_id).json()
    url = f"/v1/sessions/{session['id']}"
    pinned = alice.put(f"{url}/pin")
    assert (pinned.status_code, pinned.content) == (204, b"")
    assert alice.put(f"{url}/pin").status_code == 204  # idempotent
    assert alice.get(url).json()["is_pinned"] is True
    assert bob.get(url).json()["is_pinned"] is False
    assert [row["is_pinned"] for row in alice.get("/v1/sessions").json()["data"]] == [True]
    assert [row["is_pinned"] for row in bob.get("/v1/sessions").json()["data"]] == [False]
    assert alice.patch(url, {"title": "still pinned"}, format="json").json()["is_pinned"] is True
    assert alice.delete(f"{url}/pin").status_code == 204
    assert alice.delete(f"{url}/pin").status_code == 204
    assert alice.get(url).json()["is_pinned"] is False


def test_pinned_filter_and_order(api_client, agent_id):
    ids = [create(api_client, agent_id, title=f"s{i}").json()["id"] for i in range(4)]
    api_client.put(f"/v1/sessions/{ids[0]}/pin")
    api_client.put(f"/v1/sessions/{ids[2]}/pin")
    pinned = api_client.get("/v1/sessions?pinned=true").json()
    assert [row["id"] for row in pinned["data"]] == [ids[2], ids[0]]  # newest first, like every session list
    assert pinned["total"] == 2
    unpinned = api_client.get("/v1/sessions?pinned=false").json()
    assert [row["id"] for row in unpinned["data"]] == [ids[3], ids[1]]
    assert api_client.get("/v1/sessions?pinned=maybe").json() == INVALID


def test_search_matches_titles_case_insensitively(api_client, agent_id):
    create(api_client, agent_id, title="Debug LOGIN issue")
    create(api_client, agent_id, title="Plan Q3")
    found = api_client.get("/v1/sessions?search=login").json()
    assert [row["title"] for row in found["data"]] == ["Debug LOGIN issue"]


def test_pins_of_another_organization_are_404(api_client, other_org_client, agent_id):
    session = create(api_client, agent_id).json()
    for method in (other_org_client.put, other_org_client.delete):
        response = method(f"/v1/sessions/{session['id']}/pin")
        assert (response.status_code, response.json()) == (404, {"error": "Session not found", "status": 404})
    assert api_client.put("/v1/sessions/session_nothex/pin").status_code == 404


def test_list_queries_do_not_grow_with_pins(make_user, client_for, agent_id, django_assert_max_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = client_for(make_user("pins@example.com"))
    first = create(client, agent_id).json()
    client.put(f"/v1/sessions/{first['id']}/pin")
    with CaptureQueriesContext(connection) as ctx:
        client.get("/v1/sessions?limit=100")
    baseline = len(ctx.captured_queries)
    for _ in range(15):
        session = create(client, agent_id, tools=[TOOL]).json()
        client.put(f"/v1/sessions/{session['id']}/pin")
    with django_assert_max_num_queries(baseline):
        body = client.get("/v1/sessions?limit=100").json()
    assert body["total"] == 16 and all(row["is_pinned"] for row in body["data"])


def test_agent_by_name(api_client, make_agent):
    from apps.core.ids import format_id

    helper = make_agent(name="support")
    session = api_client.post("/v1/sessions", {"agent_name": "support"}, format="json")
    assert session.status_code == 201, session.content
    assert session.json()["agent_id"] == format_id("agent", helper.public_id)
    missing = api_client.post("/v1/sessions", {"agent_name": "nobody"}, format="json")
    assert missing.json() == {"error": "Agent not found", "status": 404}
    make_agent(name="support")
    ambiguous = api_client.post("/v1/sessions", {"agent_name": "support"}, format="json")
    assert ambiguous.json() == {"error": "Agent name is ambiguous: use agent_id", "status": 409}
    both = {"agent_name": "support", "agent_id": format_id("agent", helper.public_id)}
    assert api_client.post("/v1/sessions", both, format="json").json() == INVALID


def test_nul_characters_in_query_strings_are_400(api_client, agent_id):
    session = create(api_client, agent_id).json()
    assert api_client.get("/v1/sessions?search=a%00b").json() == INVALID
    for param in ("tool_name", "trace_id", "exec_id"):
        assert api_client.get(f"/v1/sessions/{session['id']}/events?{param}=%00").json() == INVALID


# --------------------------------------------------------------------------- a session on a harness alone
def test_a_session_without_an_agent_runs_on_its_harness(api_client):
    from apps.core.ids import parse_id
    from apps.runtime.services import turn_run_pending

    harness = api_client.post(
        "/v1/harnesses",
        {"name": "solo", "system_prompt": "Harness rules.", "capabilities": ["current_time"]},
        format="json",
    ).json()
    generic = api_client.get("/v1/harnesses/generic").json()
    plain = api_client.post("/v1/sessions", {}, format="json")
    assert plain.status_code == 201, plain.content
    assert plain.json()["agent_id"] is None and plain.json()["harness_id"] == generic["id"]
    created = api_client.post("/v1/sessions", {"harness_name": "solo", "title": "solo"}, format="json").json()
    assert (created["agent_id"], created["harness_id"]) == (None, harness["id"])
    url = f"/v1/sessions/{created['id']}"
    message = {"message": {"role": "user", "content": [{"type": "text", "text": "alone"}]}}
    assert api_client.post(f"{url}/messages", message, format="json").status_code == 201
    turn_run_pending(session_id=parse_id("session", created["id"]))
    events = api_client.get(f"{url}/events").json()["data"]
    assert [e["type"] for e in events][-2:] == ["turn.completed", "session.idled"]
    system = next(e for e in events if e["type"] == "llm.generation")["data"]["messages"][0]["content"][0]["text"]
    assert "Harness rules." in system
    assert api_client.get(url).json()["output_preview"] == "You said: alone"
    listed = api_client.get("/v1/sessions", {"search": "solo"}).json()["data"]
    assert [row["agent_id"] for row in listed] == [None]
    # Fork, export and the admin's views work without an agent too.
    assert api_client.post(f"{url}/fork", {}, format="json").json()["agent_id"] is None
    assert api_client.get(f"{url}/export", {"format": "json"}).status_code == 200
