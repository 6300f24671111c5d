"""/v1/mcp-servers through the API, against a real MCP server (the SDK's server side on 127.0.0.1)."""

import json
import logging

import pytest

from apps.mcp.models import McpServer

pytestmark = pytest.mark.django_db

SECRET = "sk-mcp-very-secret-0123456789"
HEADER_SECRET = "header-secret-value-42"


def create(api_client, url, **extra):
    body = {"name": "calc", "url": url, **extra}
    return api_client.post("/v1/mcp-servers", body, format="json")


def test_create_lists_tools_and_never_returns_or_logs_the_credentials(api_client, local_mcp, caplog):
    caplog.set_level(logging.DEBUG)
    response = create(
        api_client, local_mcp.url, description="Maths", api_key=SECRET, headers={"X-Tenant": HEADER_SECRET}
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["id"].startswith("mcp_") and body["capability_id"] == f"mcp:{body['id']}"
    assert body["api_key_set"] is True and body["auth_mode"] == "api_key"
    assert body["headers"] == {"X-Tenant": "********"}
    assert body["transport_type"] == "http" and body["status"] == "active"
    assert [(t["name"], t["model_name"]) for t in body["tools"]] == [
        ("add", "mcp__calc__add"),
        ("shout", "mcp__calc__shout"),
        ("hang", "mcp__calc__hang"),
        ("explode", "mcp__calc__explode"),
    ]
    # The server got the credentials...
    assert any(h.get("authorization") == f"Bearer {SECRET}" for h in local_mcp.seen_headers)
    assert any(h.get("x-tenant") == HEADER_SECRET for h in local_mcp.seen_headers)
    # ...which are stored encrypted and appear in no response and no log line.
    row = McpServer.objects.get()
    assert SECRET not in (row.secrets_encrypted or "") and HEADER_SECRET not in (row.secrets_encrypted or "")
    for read in (api_client.get("/v1/mcp-servers"), api_client.get(f"/v1/mcp-servers/{body['id']}")):
        assert read.status_code == 200
        assert SECRET not in read.content.decode() and HEADER_SECRET not in read.content.decode()
    assert SECRET not in caplog.text and HEADER_SECRET not in caplog.text


def test_list_search_archive_and_delete(api_client, local_mcp):
    first = create(api_client, local_mcp.url, description="Jira and Confluence").json()
    second = api_client.post("/v1/mcp-servers", {"name": "other", "url": local_mcp.url}, format="json").json()

    listed = api_client.get("/v1/mcp-servers").json()
    assert listed["total"] == 2 and {s["id"] for s in listed["data"]} == {first["id"], second["id"]}
    assert [s["id"] for s in api_client.get("/v1/mcp-servers?search=confluence").json()["data"]] == [first["id"]]

    archived = api_client.patch(f"/v1/mcp-servers/{second['id']}", {"status": "archived"}, format="json")
    assert archived.status_code == 200 and archived.json()["archived_at"] is not None
    assert [s["id"] for s in api_client.get("/v1/mcp-servers").json()["data"]] == [first["id"]]
    assert api_client.get("/v1/mcp-servers?include_archived=true").json()["total"] == 2
    refused = api_client.patch(f"/v1/mcp-servers/{second['id']}", {"name": "renamed"}, format="json")
    assert refused.status_code == 422

    assert api_client.delete(f"/v1/mcp-servers/{first['id']}").status_code == 204
    assert api_client.get(f"/v1/mcp-servers/{first['id']}").json() == {"error": "MCP server not found", "status": 404}
    assert api_client.get("/v1/mcp-servers?include_archived=true").json()["total"] == 1
    # The name is free again once deleted.
    assert create(api_client, local_mcp.url).status_code == 201


def test_patch_keeps_redacted_header_values_and_replaces_the_key(api_client, local_mcp):
    server = create(api_client, local_mcp.url, api_key=SECRET, headers={"X-Tenant": HEADER_SECRET}).json()
    local_mcp.seen_headers.clear()
    response = api_client.patch(
        f"/v1/mcp-servers/{server['id']}",
        {"headers": {"X-Tenant": "********", "X-Extra": "more"}, "api_key": "new-key"},
        format="json",
    )
    assert response.status_code == 200, response.content
    assert response.json()["headers"] == {"X-Extra": "********", "X-Tenant": "********"}
    sent = local_mcp.seen_headers[-1]
    assert sent["x-tenant"] == HEADER_SECRET and sent["x-extra"] == "more"
    assert sent["authorization"] == "Bearer new-key"

    cleared = api_client.patch(f"/v1/mcp-servers/{server['id']}", {"api_key": None}, format="json").json()
    assert cleared["api_key_set"] is False and cleared["auth_mode"] == "none"


def test_refresh_picks_up_a_changed_tool_list(api_client, local_mcp):
    server = create(api_client, local_mcp.url).json()

    def reverse(text: str) -> str:
        return text[::-1]

    local_mcp.server.add_tool(reverse, description="Reverse a string.")
    local_mcp.server.remove_tool("explode")
    assert "reverse" not in [t["name"] for t in api_client.get(f"/v1/mcp-servers/{server['id']}").json()["tools"]]

    refreshed = api_client.post(f"/v1/mcp-servers/{server['id']}/refresh")
    assert refreshed.status_code == 200, refreshed.content
    assert [t["name"] for t in refreshed.json()["data"]] == ["add", "shout", "hang", "reverse"]
    stored = api_client.get(f"/v1/mcp-servers/{server['id']}").json()
    assert [t["name"] for t in stored["tools"]] == ["add", "shout", "hang", "reverse"]
    assert stored["tools_refreshed_at"] is not None


def test_sse_transport_for_older_servers(api_client, local_mcp_sse):
    response = create(api_client, local_mcp_sse.url, transport_type="sse")
    assert response.status_code == 201, response.content
    assert [t["name"] for t in response.json()["tools"]] == ["add", "shout", "hang", "explode"]


def test_an_unreachable_server_is_created_and_refresh_says_502(api_client, mcp_settings, unused_port):
    response = create(api_client, f"http://127.0.0.1:{unused_port}/mcp")
    assert response.status_code == 201, response.content
    assert response.json()["tools"] is None
    refreshed = api_client.post(f"/v1/mcp-servers/{response.json()['id']}/refresh")
    assert refreshed.json() == {"error": "Could not reach the MCP server", "status": 502}


@pytest.mark.parametrize(
    ("body", "status", "error"),
    [
        ({"name": "x", "url": "ftp://example.com/mcp"}, 400, "MCP server URL must be an http(s) URL"),
        ({"name": "x", "url": "https://user:pw@example.com/mcp"}, 400, None),
        ({"name": "x", "url": "https://example.com/mcp", "transport_type": "stdio"}, 422, None),
        ({"name": "x", "url": "https://example.com/mcp", "auth_mode": "o_auth"}, 422, None),
        ({"name": "x", "url": "https://example.com/mcp", "headers": {"X-A": "a\r\nb"}}, 400, "Invalid request"),
        ({"name": "  ", "url": "https://example.com/mcp"}, 400, "Invalid request"),
        ({"url": "https://example.com/mcp"}, 400, "Invalid request"),
        ({"name": "x", "url": "http://127.0.0.1:9/mcp"}, 422, "MCP server address is not allowed"),
        ({"name": "x", "url": "http://169.254.169.254/mcp"}, 422, "MCP server address is not allowed"),
    ],
)
def test_bad_input(api_client, body, status, error):
    response = api_client.post("/v1/mcp-servers", body, format="json")
    assert response.status_code == status, response.content
    assert response.json()["status"] == status
    if error:
        assert response.json()["error"] == error
    assert not McpServer.objects.exists()


def test_duplicate_name_is_400(api_client, mcp_settings, unused_port):
    url = f"http://127.0.0.1:{unused_port}/mcp"
    assert create(api_client, url).status_code == 201
    assert create(api_client, url).json() == {"error": "An MCP server with this name already exists", "status": 400}


def test_other_organizations_see_nothing(api_client, other_org_client, local_mcp):
    server = create(api_client, local_mcp.url).json()
    assert other_org_client.get("/v1/mcp-servers").json() == {"data": [], "total": 0}
    for method in ("get", "patch", "delete"):
        response = getattr(other_org_client, method)(f"/v1/mcp-servers/{server['id']}", {}, format="json")
        assert response.status_code == 404, method
    assert McpServer.objects.get().status == "active"


def test_members_read_admins_write(member_client, admin_client, mcp_settings, unused_port):
    url = f"http://127.0.0.1:{unused_port}/mcp"
    assert member_client.post("/v1/mcp-servers", {"name": "m", "url": url}, format="json").status_code == 403
    assert admin_client.post("/v1/mcp-servers", {"name": "m", "url": url}, format="json").status_code == 201
    assert member_client.get("/v1/mcp-servers").json()["total"] == 1
    assert member_client.get("/v1/mcp-servers/config").json()["policies"]["create"] is False
    assert admin_client.get("/v1/mcp-servers/config").json()["policies"]["create"] is True


def test_secrets_do_not_decrypt_on_another_row(api_client, mcp_settings, unused_port):
    """The ciphertext is bound to its row: copied to another server it does not decrypt."""
    from apps.mcp.services import server_endpoint

    url = f"http://127.0.0.1:{unused_port}/mcp"
    create(api_client, url, api_key=SECRET)
    other = api_client.post("/v1/mcp-servers", {"name": "other", "url": url}, format="json").json()
    source = McpServer.objects.get(name="calc")
    McpServer.objects.filter(name="other").update(
        secrets_encrypted=source.secrets_encrypted, secrets_key_id=source.secrets_key_id, auth_mode="api_key"
    )
    assert server_endpoint(McpServer.objects.get(name="other")).headers == {}
    assert json.dumps(other).find(SECRET) == -1


def test_rotate_encryption_keys_re_encrypts_mcp_credentials(api_client, settings, mcp_settings, unused_port):
    import base64
    import io

    from django.core.management import call_command

    from apps.mcp.services import server_endpoint

    old = "old:" + base64.b64encode(b"o" * 32).decode()
    new = "new:" + base64.b64encode(b"n" * 32).decode()
    settings.ENCRYPTION_KEYS = old
    create(api_client, f"http://127.0.0.1:{unused_port}/mcp", api_key=SECRET, headers={"X-Tenant": HEADER_SECRET})
    assert McpServer.objects.get().secrets_key_id == "old"

    settings.ENCRYPTION_KEYS = f"{new},{old}"
    out = io.StringIO()
    call_command("rotate_encryption_keys", stdout=out)
    assert "re-encrypted 1 key(s) with key id 'new'" in out.getvalue()  # no provider keys: the MCP server's
    settings.ENCRYPTION_KEYS = new  # the old key can go
    server = McpServer.objects.get()
    assert server.secrets_key_id == "new"
    assert server_endpoint(server).headers == {"X-Tenant": HEADER_SECRET, "Authorization": f"Bearer {SECRET}"}
