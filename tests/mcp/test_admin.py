"""The admin shows MCP servers and skills without credentials."""

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db

SECRET = "sk-admin-never-shown-123"


@pytest.fixture
def staff_client(client, django_user_model):
    user = django_user_model.objects.create_superuser(email="root@example.com", password="S3cure-pass!")
    client.force_login(user)
    return client


def test_server_pages_never_show_credentials(staff_client, api_client, mcp_settings, unused_port):
    from apps.mcp.models import McpServer

    body = {"name": "calc", "url": f"http://127.0.0.1:{unused_port}/mcp", "api_key": SECRET}
    assert api_client.post("/v1/mcp-servers", body, format="json").status_code == 201
    server = McpServer.objects.get()
    for url in (reverse("admin:mcp_mcpserver_changelist"), reverse("admin:mcp_mcpserver_change", args=[server.pk])):
        page = staff_client.get(url)
        assert page.status_code == 200 and "calc" in page.content.decode()
        assert SECRET not in page.content.decode() and server.secrets_encrypted not in page.content.decode()


def test_skill_pages_show_versions(staff_client, api_client):
    from apps.skills.models import Skill

    text = "---\nname: notes\ndescription: Take notes.\n---\nWrite them down."
    skill = api_client.post("/v1/skills", {"skill_md": text}, format="json").json()
    api_client.patch(f"/v1/skills/{skill['id']}", {"skill_md": text + " Twice."}, format="json")
    page = staff_client.get(reverse("admin:skills_skill_change", args=[Skill.objects.get().pk]))
    assert page.status_code == 200 and "Write them down." in page.content.decode()
