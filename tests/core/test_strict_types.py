"""Wrong JSON types are 400, never silently converted (DRF would turn 5 into "5")."""

import pytest

pytestmark = pytest.mark.django_db

INVALID = {"error": "Invalid request", "status": 400}


@pytest.fixture
def session(api_client):
    agent = api_client.post("/v1/agents", {"name": "a", "system_prompt": "p"}, format="json").json()
    return api_client.post("/v1/sessions", {"agent_id": agent["id"]}, format="json").json()


def test_number_as_message_text_is_400(api_client, session):
    body = {"message": {"content": [{"type": "text", "text": 5}]}}
    response = api_client.post(f"/v1/sessions/{session['id']}/messages", body, format="json")
    assert (response.status_code, response.json()) == (400, INVALID)


def test_number_as_session_title_is_400(api_client, session):
    response = api_client.patch(f"/v1/sessions/{session['id']}", {"title": 5}, format="json")
    assert (response.status_code, response.json()) == (400, INVALID)
    assert api_client.get(f"/v1/sessions/{session['id']}").json()["title"] is None


def test_string_as_api_key_expiry_is_400(full_auth, make_user, bearer_client_for):
    client = bearer_client_for(make_user("keys@example.com"))
    response = client.post("/v1/auth/api-keys", {"name": "ci", "expires_in_days": "5"}, format="json")
    assert (response.status_code, response.json()) == (400, INVALID)
    assert client.post("/v1/auth/api-keys", {"name": "ci", "expires_in_days": 5}, format="json").status_code == 201
