"""NUL characters (PostgreSQL cannot store them) in harness and agent inputs: 400/404, never a database error."""

import pytest

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("method", "url", "body", "status"),
    [
        ("post", "/v1/harnesses", {"name": "n", "system_prompt": "a\x00b"}, 400),
        ("post", "/v1/harnesses", {"name": "n", "tags": ["a\x00"]}, 400),
        ("post", "/v1/harnesses", {"name": "n", "initial_files": [{"path": "/a", "content": "\x00"}]}, 400),
        ("post", "/v1/agents", {"name": "a", "system_prompt": "p", "harness_name": "x\x00"}, 400),
        ("post", "/v1/agents", {"name": "a\x00", "system_prompt": "p"}, 400),
        ("post", "/v1/agents", {"name": "a", "system_prompt": "p", "display_name": "\x00"}, 400),
        ("get", "/v1/agents?search=%00", None, 400),
        ("get", "/v1/harnesses?search=%00", None, 400),
        ("get", "/v1/agents/check-name?name=%00", None, 400),
        ("get", "/v1/agents/a%00b", None, 404),
        ("get", "/v1/agents/a%00b/stats", None, 404),
        ("get", "/v1/harnesses/a%00b", None, 404),
    ],
)
def test_nul_is_a_client_error(api_client, method, url, body, status):
    response = getattr(api_client, method)(url, body, format="json") if body is not None else api_client.get(url)
    assert response.status_code == status, response.content
    assert response.json()["status"] == status
