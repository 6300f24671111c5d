"""/v1/user/connections: a user's own provider key, encrypted, write-only, used by their sessions' turns."""

import base64
import io
import logging

import pytest
from django.core.management import call_command

from apps.llm.models import LlmModel, LlmProvider, UserConnection
from tests.fakes import Reply

pytestmark = pytest.mark.django_db

KEY = "sk-user-own-0123456789"
OLD, NEW = f"old:{base64.b64encode(b'o' * 32).decode()}", f"new:{base64.b64encode(b'n' * 32).decode()}"


def set_connection(client, provider="openai", api_key=KEY):
    return client.post(f"/v1/user/connections/{provider}", {"api_key": api_key}, format="json")


def test_set_list_replace_remove_and_the_key_is_never_returned(api_client, caplog):
    with caplog.at_level(logging.DEBUG):
        response = set_connection(api_client)
    assert response.status_code == 200
    body = response.json()
    assert (body["provider"], body["connection_type"]) == ("openai", "api_key")
    assert {"created_at", "updated_at", "connected_at"} <= set(body)
    assert KEY not in response.content.decode() and KEY not in caplog.text

    listed = api_client.get("/v1/user/connections")
    assert [c["provider"] for c in listed.json()["data"]] == ["openai"] and KEY not in listed.content.decode()
    row = UserConnection.objects.get()
    assert KEY.encode() not in base64.b64decode(row.api_key_encrypted)  # encrypted at rest

    set_connection(api_client, api_key="sk-replaced")
    assert UserConnection.objects.count() == 1
    assert api_client.delete("/v1/user/connections/openai").status_code == 204
    assert api_client.get("/v1/user/connections").json() == {"data": [], "total": 0}
    assert api_client.delete("/v1/user/connections/openai").json() == {"error": "Connection not found", "status": 404}


def test_bad_connections_are_400(api_client):
    assert set_connection(api_client, provider="daytona").json() == {"error": "Invalid request", "status": 400}
    assert set_connection(api_client, api_key="").status_code == 400
    assert api_client.post("/v1/user/connections/openai", {}, format="json").status_code == 400
    assert api_client.get("/v1/user/connections").json()["total"] == 0


def test_each_user_sees_only_their_own(full_auth, member_client, admin_client, other_org_client):
    assert set_connection(member_client).status_code == 200
    assert admin_client.get("/v1/user/connections").json()["total"] == 0
    assert other_org_client.get("/v1/user/connections").json()["total"] == 0
    assert admin_client.delete("/v1/user/connections/openai").status_code == 404
    assert member_client.get("/v1/user/connections").json()["total"] == 1


def keyless_model(base_url: str) -> LlmModel:
    from apps.accounts.models import DEFAULT_ORG_ID

    provider = LlmProvider.objects.create(
        organization_id=DEFAULT_ORG_ID, name="Keyless", provider_type="openai", base_url=base_url
    )
    return LlmModel.objects.create(
        organization_id=DEFAULT_ORG_ID, provider=provider, model_id="own-key-model", display_name="own"
    )


def test_a_turn_uses_the_session_owners_connection_when_the_provider_has_no_key(
    openai_server, make_chat, api_client, settings
):
    settings.LLM_CONNECTIONS_ANY_BASE_URL = True  # the fake is not an official endpoint
    set_connection(api_client)
    chat = make_chat(model=keyless_model(openai_server.base_url))
    openai_server.queue(Reply(text="paid by you"))
    chat.say("hi")
    assert chat.last_agent_text() == "paid by you"
    [request] = openai_server.generation_requests()
    assert request.headers.get("authorization") == f"Bearer {KEY}"


def test_a_users_key_goes_to_official_endpoints_only_by_default(openai_server, make_chat, api_client):
    set_connection(api_client)
    chat = make_chat(model=keyless_model(openai_server.base_url))
    openai_server.queue(Reply(text="never"))
    chat.say("hi")
    assert all(r.headers.get("authorization") != f"Bearer {KEY}" for r in openai_server.generation_requests())
    assert chat.refresh()["status"] == "idle"


def test_rotation_re_encrypts_connections(api_client, settings):
    settings.ENCRYPTION_KEYS = OLD
    set_connection(api_client)
    before = UserConnection.objects.get()
    assert before.api_key_key_id == "old"
    settings.ENCRYPTION_KEYS = f"{NEW},{OLD}"
    out = io.StringIO()
    call_command("rotate_encryption_keys", stdout=out)
    assert "re-encrypted 1 key(s) with key id 'new'" in out.getvalue()
    after = UserConnection.objects.get()
    assert after.api_key_key_id == "new" and after.api_key_encrypted != before.api_key_encrypted

    from apps.llm.services.connections import connection_api_key

    settings.ENCRYPTION_KEYS = NEW
    provider = LlmProvider(provider_type="openai", base_url=None)
    assert connection_api_key(user_id=after.user_id, provider=provider) == KEY
