"""A skill loaded during a turn: the index in the system prompt, load_skill, files in the session filesystem."""

import json

import pytest

pytestmark = pytest.mark.django_db

SKILL = """---
name: refund-policy
description: Issue refunds inside the policy window.
---

Refund within 30 days of purchase; otherwise offer store credit.
"""


def say(api_client, session_id: str, text: str) -> list[dict]:
    from apps.core.ids import parse_id
    from apps.runtime.services import turn_run_pending

    body = {"message": {"role": "user", "content": [{"type": "text", "text": text}]}}
    response = api_client.post(f"/v1/sessions/{session_id}/messages", body, format="json")
    assert response.status_code == 201, response.content
    turn_run_pending(session_id=parse_id("session", session_id))
    return api_client.get(f"/v1/sessions/{session_id}/events").json()["data"]


@pytest.fixture
def skill(api_client):
    """The refund-policy skill, with one extra file (as an uploaded archive would give it)."""
    from apps.skills.models import Skill

    response = api_client.post("/v1/skills", {"skill_md": SKILL}, format="json")
    assert response.status_code == 201, response.content
    Skill.objects.filter(name="refund-policy").update(
        files=[{"path": "templates/email.md", "content": "Dear customer"}]
    )
    return response.json()


def session_for(api_client, **fields) -> str:
    agent = api_client.post("/v1/agents", {"name": "Support", "system_prompt": "You help.", **fields}, format="json")
    assert agent.status_code == 201, agent.content
    session = api_client.post("/v1/sessions", {"agent_id": agent.json()["id"]}, format="json")
    assert session.status_code == 201, session.content
    return session.json()["id"]


def test_the_agent_loads_a_skill_during_a_turn(api_client, skill):
    session = session_for(api_client, capabilities=[skill["capability_id"]])
    events = say(api_client, session, 'A refund please.\n/tool load_skill {"name": "refund-policy"}')

    generation = next(e for e in events if e["type"] == "llm.generation")
    system = generation["data"]["messages"][0]["content"][0]["text"]
    assert "Skill `refund-policy`: Issue refunds inside the policy window." in system
    assert "load_skill" in [t["name"] for t in generation["data"]["tools"]]
    assert "Refund within 30 days" not in system  # only the index until the agent loads it

    completed = next(e for e in events if e["type"] == "tool.completed")
    assert completed["data"]["status"] == "success", completed["data"]
    result = json.loads(completed["data"]["result"][0]["text"])
    assert result["instructions"] == "Refund within 30 days of purchase; otherwise offer store credit."
    assert result["files"] == ["/skills/refund-policy/SKILL.md", "/skills/refund-policy/templates/email.md"]
    assert [e["data"]["path"] for e in events if e["type"] == "file.created"][-1] == (
        "/skills/refund-policy/templates/email.md"
    )
    read = api_client.get(f"/v1/sessions/{session}/fs/skills/refund-policy/SKILL.md")
    assert read.status_code == 200 and read.json()["content"] == SKILL
    assert [e["type"] for e in events][-2:] == ["turn.completed", "session.idled"]


def test_a_session_level_skill_and_an_unattached_one(api_client, skill):
    other = api_client.post(
        "/v1/skills", {"skill_md": "---\nname: secret-sauce\ndescription: Not for this agent.\n---\nx"}, format="json"
    )
    assert other.status_code == 201
    agent = api_client.post("/v1/agents", {"name": "S", "system_prompt": "p"}, format="json").json()
    session = api_client.post(
        "/v1/sessions", {"agent_id": agent["id"], "capabilities": [skill["capability_id"]]}, format="json"
    )
    assert session.status_code == 201, session.content
    events = say(api_client, session.json()["id"], '/tool load_skill {"name": "secret-sauce"}')
    completed = next(e for e in events if e["type"] == "tool.completed")
    assert completed["data"]["error"] == "Unknown skill: secret-sauce"


def test_a_disabled_skill_is_neither_listed_nor_loadable(api_client, skill):
    session = session_for(api_client, capabilities=[skill["capability_id"]])
    assert api_client.patch(f"/v1/skills/{skill['id']}", {"status": "disabled"}, format="json").status_code == 200
    events = say(api_client, session, '/tool load_skill {"name": "refund-policy"}')
    generation = next(e for e in events if e["type"] == "llm.generation")
    assert "refund-policy" not in generation["data"]["messages"][0]["content"][0]["text"]
    completed = next(e for e in events if e["type"] == "tool.completed")
    assert completed["data"]["error"] == "Unknown tool: load_skill"


def test_import_a_folder_of_markdown(tmp_path, api_client):
    from django.core.management import call_command

    (tmp_path / "refunds.md").write_text(SKILL, encoding="utf-8")
    folder = tmp_path / "pdf"
    (folder / "reference").mkdir(parents=True)
    (folder / "SKILL.md").write_text("---\nname: pdf\ndescription: PDFs.\n---\nRead PDFs.", encoding="utf-8")
    (folder / "reference" / "forms.md").write_text("# Forms", encoding="utf-8")
    (folder / ".hidden").write_text("skip me", encoding="utf-8")
    call_command("import_skills", str(tmp_path))

    skills = {s["name"]: s for s in api_client.get("/v1/skills").json()["data"]}
    assert set(skills) == {"refund-policy", "pdf"}
    content = api_client.get(f"/v1/skills/{skills['pdf']['id']}/content").json()
    assert content["files"] == [{"path": "reference/forms.md", "content": "# Forms"}]
    # Importing again with a change gives the same skill a new version.
    (tmp_path / "refunds.md").write_text(SKILL.replace("30 days", "14 days"), encoding="utf-8")
    call_command("import_skills", str(tmp_path))
    again = {s["name"]: s for s in api_client.get("/v1/skills").json()["data"]}
    assert again["refund-policy"]["id"] == skills["refund-policy"]["id"] and again["refund-policy"]["version"] == "2"
