"""CORS (django-cors-headers) for the origins in CORS_ALLOWED_ORIGINS, with credentials for cookie auth."""

import pytest

pytestmark = pytest.mark.django_db

APP = "https://app.example.com"


@pytest.fixture
def allowed(settings):
    settings.CORS_ALLOWED_ORIGINS = [APP]


def test_preflight_from_an_allowed_origin(api_client, allowed):
    response = api_client.options(
        "/v1/agents",
        HTTP_ORIGIN=APP,
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="content-type, authorization, last-event-id",
    )
    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == APP
    assert response["Access-Control-Allow-Credentials"] == "true"
    assert "POST" in response["Access-Control-Allow-Methods"]
    allowed_headers = response["Access-Control-Allow-Headers"]
    for header in ("authorization", "content-type", "last-event-id"):
        assert header in allowed_headers


def test_a_cross_origin_request_can_read_the_response_and_its_request_id(api_client, allowed):
    response = api_client.get("/v1/agents", HTTP_ORIGIN=APP)
    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == APP
    assert response["Access-Control-Allow-Credentials"] == "true"
    assert "X-Request-Id" in response["Access-Control-Expose-Headers"]


def test_other_origins_get_no_cors_headers(api_client, allowed):
    preflight = api_client.options(
        "/v1/agents", HTTP_ORIGIN="https://evil.example.com", HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST"
    )
    assert "Access-Control-Allow-Origin" not in preflight
    response = api_client.get("/v1/agents", HTTP_ORIGIN="https://evil.example.com")
    assert response.status_code == 200
    assert "Access-Control-Allow-Origin" not in response


def test_no_origin_is_allowed_by_default(api_client, settings):
    assert settings.CORS_ALLOWED_ORIGINS == []
    response = api_client.get("/v1/agents", HTTP_ORIGIN=APP)
    assert "Access-Control-Allow-Origin" not in response
