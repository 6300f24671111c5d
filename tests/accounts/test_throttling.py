"""login, register and refresh share a per-IP rate limit answered as 429 with Retry-After."""

import pytest

pytestmark = pytest.mark.django_db


@pytest.fixture
def low_rate(full_auth, settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"auth": "3/min"}}


def attempt(client, path="/v1/auth/login", **extra):
    return client.post(path, {"email": "x@example.com", "password": "wrong-password"}, format="json", **extra)


def test_fourth_attempt_in_a_minute_is_429_with_retry_after(low_rate, api_client):
    assert [attempt(api_client).status_code for _ in range(3)] == [401, 401, 401]
    response = attempt(api_client)
    assert response.status_code == 429
    assert response.json() == {"error": "Too many requests", "status": 429}
    assert 0 < int(response["Retry-After"]) <= 60


def test_bucket_is_shared_by_login_register_and_refresh(low_rate, api_client):
    attempt(api_client, "/v1/auth/login")
    attempt(api_client, "/v1/auth/register")
    api_client.post("/v1/auth/refresh", {"refresh_token": "x"}, format="json")
    assert api_client.post("/v1/auth/refresh", {"refresh_token": "x"}, format="json").status_code == 429


def test_spoofed_forwarded_for_does_not_reset_the_bucket(low_rate, api_client):
    for n in range(3):
        attempt(api_client, HTTP_X_FORWARDED_FOR=f"10.0.0.{n}")
    assert attempt(api_client, HTTP_X_FORWARDED_FOR="10.0.0.99").status_code == 429


def test_other_clients_and_routes_are_not_throttled(low_rate, api_client):
    for _ in range(4):
        attempt(api_client)
    assert attempt(api_client, REMOTE_ADDR="192.0.2.7").status_code == 401
    assert api_client.get("/v1/auth/config").status_code == 200
    assert api_client.post("/v1/auth/logout").status_code == 200
