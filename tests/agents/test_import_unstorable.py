"""Import documents whose YAML escapes decode to text no database can store are 400, not 500."""

import pytest

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "document",
    ['---\nname: "\\ud800"\n---\nbody', '---\nname: "a\\0b"\n---\nbody', 'name: x\nsystem_prompt: "p\\x00"\n'],
)
def test_import_with_nul_or_lone_surrogate_is_400(api_client, document):
    response = api_client.post("/v1/agents/import", data=document, content_type="text/plain")
    assert response.status_code == 400
    assert response.json() == {"error": "Invalid request", "status": 400}


def test_json_agent_with_nul_in_capability_config_is_400(api_client):
    body = '{"name": "a", "system_prompt": "p", "capabilities": [{"ref": "noop", "config": {"x": "\\u0000"}}]}'
    response = api_client.post("/v1/agents", data=body, content_type="application/json")
    assert response.json() == {"error": "Invalid request", "status": 400}
