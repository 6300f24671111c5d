"""POST/GET/PATCH/DELETE /v1/sessions and POST .../cancel (contract 2.4, 3.2)."""

import pytest

from apps.core.ids import format_id

pytestmark = pytest.mark.django_db


def create(api_client, **body):
    return api_client.post("/v1/sessions", body, format="json")


def test_create_returns_a_started_session(api_client, agent_id, default_org):
    response = create(api_client, agent_id=agent_id, title="Notes", tags=["a"])
    assert response.status_code == 201
    body = response.json()
    assert body["id"].startswith("session_")
    assert body["organization_id"] == format_id("org", default_org.pk)
    assert body["agent_id"] == agent_id
    assert body["title"] == "Notes"
    assert body["tags"] == ["a"]
    assert body["status"] == "started"
    assert body["model_id"] is None
    assert body["capabilities"] == []
    assert body["features"] == []
    assert body["usage"] is None
    assert body["preview"] is None and body["output_preview"] is None
    assert body["started_at"] is None and body["finished_at"] is None
    assert body["created_at"].endswith("Z")


def test_create_emits_session_started_once(api_client, agent_id):
    session_id = create(api_client, agent_id=agent_id).json()["id"]
    events = api_client.get(f"/v1/sessions/{session_id}/events").json()
    assert events["total"] == 1
    event = events["data"][0]
    assert event["type"] == "session.started"
    assert event["sequence"] == 1
    assert event["data"] == {"agent_id": agent_id}


@pytest.mark.parametrize("agent_id", ["nope", "agent_xyz", "session_" + "0" * 32, 42])
def test_create_with_malformed_agent_id_is_400(api_client, agent_id):
    response = create(api_client, agent_id=agent_id)
    assert response.status_code == 400
    assert response.json() == {"error": "Invalid request", "status": 400}


def test_create_without_agent_id_runs_on_the_generic_harness(api_client):
    # The published spec: `agent_id` is optional; without an agent or a harness, the organization's `generic`.
    for body in ({"title": "x"}, {"title": "y", "agent_id": None}):
        session = create(api_client, **body).json()
        assert session["agent_id"] is None
        assert session["harness_id"] == api_client.get("/v1/harnesses/generic").json()["id"]


def test_create_with_unknown_or_foreign_agent_is_404(api_client, make_agent, make_org):
    unknown = create(api_client, agent_id="agent_" + "0" * 31 + "9")
    assert unknown.status_code == 404
    assert unknown.json() == {"error": "Agent not found", "status": 404}
    foreign = make_agent(org=make_org("Elsewhere"))
    response = create(api_client, agent_id=format_id("agent", foreign.public_id))
    assert response.json() == {"error": "Agent not found", "status": 404}


def test_create_with_model_override(api_client, agent_id, make_model, make_org):
    model = make_model()
    body = create(api_client, agent_id=agent_id, model_id=format_id("model", model.pk)).json()
    assert body["model_id"] == format_id("model", model.pk)
    started = api_client.get(f"/v1/sessions/{body['id']}/events").json()["data"][0]
    assert started["data"]["model_id"] == body["model_id"]

    missing = create(api_client, agent_id=agent_id, model_id="model_" + "0" * 31 + "7")
    assert missing.json() == {"error": "Model not found", "status": 404}
    foreign = make_model(org=make_org("Elsewhere"), model_id="x")
    assert create(api_client, agent_id=agent_id, model_id=format_id("model", foreign.pk)).status_code == 404
    assert create(api_client, agent_id=agent_id, model_id="gpt-4o").status_code == 400


def test_session_capabilities_are_additive_and_drive_features(api_client, make_agent):
    agent = make_agent(capabilities=[{"ref": "current_time", "config": {}}])
    body = create(api_client, agent_id=format_id("agent", agent.public_id), capabilities=["session_file_system"]).json()
    assert body["capabilities"] == [{"ref": "session_file_system", "config": {}}]
    assert body["features"] == ["file_system"]


def test_unknown_capability_is_422_and_bad_shape_400(api_client, agent_id):
    unknown = create(api_client, agent_id=agent_id, capabilities=["no_such_thing"])
    assert unknown.status_code == 422
    assert create(api_client, agent_id=agent_id, capabilities=[{"config": {}}]).status_code == 400
    assert create(api_client, agent_id=agent_id, capabilities="current_time").status_code == 400


def test_get_patch_delete(api_client, session_url, make_model):
    assert api_client.get(session_url).json()["id"] == session_url.rsplit("/", 1)[1]
    model = make_model()
    response = api_client.patch(
        session_url,
        {
            "title": "Renamed",
            "tags": ["x", "y"],
            "model_id": format_id("model", model.pk),
            "capabilities": ["current_time"],
        },
        format="json",
    )
    assert response.status_code == 200
    body = response.json()
    assert (body["title"], body["tags"], body["model_id"]) == ("Renamed", ["x", "y"], format_id("model", model.pk))
    assert body["capabilities"] == [{"ref": "current_time", "config": {}}]
    cleared = api_client.patch(session_url, {"model_id": None, "tags": []}, format="json").json()
    assert cleared["model_id"] is None and cleared["tags"] == [] and cleared["title"] == "Renamed"

    assert api_client.delete(session_url).status_code == 204
    assert api_client.get(session_url).json() == {"error": "Session not found", "status": 404}
    assert api_client.delete(session_url).status_code == 404


def test_patch_cannot_move_a_session_to_another_agent(api_client, session_url, make_agent):
    other = make_agent(name="Other")
    response = api_client.patch(session_url, {"agent_id": format_id("agent", other.public_id)}, format="json")
    assert response.status_code == 400


def test_put_is_not_allowed(api_client, session_url):
    assert api_client.put(session_url, {"title": "x"}, format="json").status_code == 405


@pytest.mark.parametrize("path", ["", "/messages", "/events", "/cancel"])
def test_unknown_malformed_and_foreign_session_ids_are_404(api_client, other_org_client, session_url, path):
    method = "post" if path == "/cancel" else "get"
    for client, url in [
        (api_client, "/v1/sessions/session_" + "0" * 31 + "5" + path),
        (api_client, "/v1/sessions/not-an-id" + path),
        (other_org_client, session_url + path),
    ]:
        response = getattr(client, method)(url)
        assert response.status_code == 404
        assert response.json() == {"error": "Session not found", "status": 404}


def test_other_org_cannot_patch_or_delete(other_org_client, session_url, api_client):
    assert other_org_client.patch(session_url, {"title": "mine"}, format="json").status_code == 404
    assert other_org_client.delete(session_url).status_code == 404
    assert api_client.get(session_url).json()["title"] is None


def test_anonymous_is_401(settings, session_url):
    from rest_framework.test import APIClient

    settings.AUTH_MODE = "full"
    response = APIClient().get("/v1/sessions")
    assert response.status_code == 401
    assert response.json() == {"error": "Unauthorized", "status": 401}
    assert APIClient().get(session_url + "/sse").json() == {"error": "Unauthorized", "status": 401}


# --------------------------------------------------------------------------- cancel
def test_cancel_when_not_active_is_the_exact_422(api_client, session, session_url):
    for status in ("started", "idle"):
        session.status = status
        session.save(update_fields=["status"])
        response = api_client.post(session_url + "/cancel")
        assert response.status_code == 422
        assert response.json() == {"error": "Cannot cancel session: session is not active", "status": 422}


def test_cancel_active_session_flags_the_turn_and_emits_the_api_side_events(api_client, session, session_url):
    from apps.sessions.models import Session, Turn

    Session.objects.filter(pk=session.pk).update(status="active")
    turn = Turn.objects.create(session=session, status="running")

    response = api_client.post(session_url + "/cancel")
    assert response.status_code == 200
    assert response.json() == {"status": "cancelled", "message": "Turn cancelled successfully"}
    turn.refresh_from_db()
    assert turn.cancel_requested is True

    events = api_client.get(session_url + "/events").json()["data"]
    assert [e["type"] for e in events] == ["session.started", "turn.cancelled", "input.message"]
    cancelled, notice = events[1], events[2]
    assert cancelled["data"] == {
        "turn_id": format_id("turn", turn.pk),
        "reason": "User requested cancellation",
        "usage": None,
    }
    assert notice["metadata"] == {"cancellation": True}
    assert notice["data"]["message"]["content"] == [{"type": "text", "text": "User requested to cancel the work."}]
    # The worker settles the session; a second cancel meanwhile is accepted without duplicate events.
    assert api_client.post(session_url + "/cancel").status_code == 200
    assert api_client.get(session_url + "/events").json()["total"] == 3


def test_cancel_active_session_without_a_turn_settles_it_idle(api_client, session, session_url):
    from apps.sessions.models import Session

    Session.objects.filter(pk=session.pk).update(status="active")
    assert api_client.post(session_url + "/cancel").status_code == 200
    assert api_client.get(session_url).json()["status"] == "idle"
    types = [e["type"] for e in api_client.get(session_url + "/events").json()["data"]]
    assert types == ["session.started", "turn.cancelled", "input.message", "session.idled"]
