"""Register, login, me, refresh, logout and the auth config across AUTH_MODE values (contract 4)."""

import time

import pytest

from apps.accounts.models import Membership, RefreshToken, User
from apps.accounts.tokens import decode

pytestmark = pytest.mark.django_db

PASSWORD = "Correct-Horse-9"


def register(client, email="ada@example.com", password=PASSWORD, name="Ada Lovelace"):
    return client.post("/v1/auth/register", {"email": email, "password": password, "name": name}, format="json")


def login(client, email="ada@example.com", password=PASSWORD):
    return client.post("/v1/auth/login", {"email": email, "password": password}, format="json")


def bearer(token: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


# --------------------------------------------------------------------------- register / login / me
def test_register_returns_token_pair_and_joins_the_default_organization_as_user(full_auth, api_client):
    from apps.accounts.models import DEFAULT_ORG_ID

    response = register(api_client)
    assert response.status_code == 201
    user = User.objects.get(email="ada@example.com")
    membership = Membership.objects.get(user=user)
    assert (membership.organization_id, membership.role) == (DEFAULT_ORG_ID, "member")
    me = api_client.get("/v1/auth/me", **bearer(response.json()["access_token"])).json()
    assert me["roles"] == ["user"]  # contract 3.11: registration gives ["user"]
    assert me["organization_id"] == f"org_{DEFAULT_ORG_ID.hex}"
    # Admin-only routes apply to people who sign up.
    assert api_client.get("/v1/users", **bearer(response.json()["access_token"])).status_code == 403


def test_register_with_own_organizations_makes_the_user_its_owner(full_auth, api_client, settings):
    settings.AUTH_SIGNUP_ORGANIZATION = "own"
    response = register(api_client)
    assert response.status_code == 201
    body = response.json()
    assert set(body) == {"access_token", "token_type", "expires_in", "refresh_token"}
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 900

    user = User.objects.get(email="ada@example.com")
    assert user.auth_provider == "local"
    assert user.password.startswith("md5$")  # hashed (tests swap Argon2 for speed), never stored raw
    membership = Membership.objects.get(user=user)
    assert membership.role == "owner"
    assert membership.organization.name == "Ada Lovelace's organization"

    me = api_client.get("/v1/auth/me", **bearer(body["access_token"]))
    assert me.status_code == 200
    assert me.json()["email"] == "ada@example.com"
    assert me.json()["name"] == "Ada Lovelace"
    assert me.json()["roles"] == ["admin"]  # owner of their own organization
    assert me.json()["organization_id"] == f"org_{membership.organization_id.hex}"


def test_access_token_claims_follow_the_contract(full_auth, api_client):
    body = register(api_client).json()
    user = User.objects.get(email="ada@example.com")
    access = decode(body["access_token"], expected_type="access")
    assert access["sub"] == str(user.pk)
    assert access["email"] == "ada@example.com"
    assert access["name"] == "Ada Lovelace"
    assert access["roles"] == ["user"]
    assert access["exp"] - access["iat"] == 900
    refresh = decode(body["refresh_token"], expected_type="refresh")
    assert refresh["sub"] == str(user.pk)
    assert refresh["exp"] - refresh["iat"] == 30 * 24 * 3600
    assert len(refresh["jti"]) == 32
    assert "email" not in refresh


def test_register_existing_email_is_409_case_insensitively(full_auth, api_client):
    assert register(api_client).status_code == 201
    response = register(api_client, email="ADA@Example.com")
    assert response.status_code == 409
    assert response.json() == {"error": "Email already registered", "status": 409}
    assert User.objects.filter(email__iexact="ada@example.com").count() == 1


@pytest.mark.parametrize("password", ["short1!", "12345678901", "password123", "ada@example.com"])
def test_register_rejects_weak_passwords(full_auth, api_client, password):
    response = register(api_client, password=password)
    assert response.status_code == 400
    assert response.json()["error"].startswith("Password is too weak")
    assert not User.objects.filter(email="ada@example.com").exists()


@pytest.mark.parametrize(
    "body",
    [
        {"email": "ada@example.com", "password": PASSWORD},
        {"email": "not-an-email", "password": PASSWORD, "name": "A"},
        {"email": "ada@example.com", "password": PASSWORD, "name": ""},
    ],
)
def test_register_bad_body_is_400(full_auth, api_client, body):
    response = api_client.post("/v1/auth/register", body, format="json")
    assert response.json() == {"error": "Invalid request", "status": 400}


def test_register_is_forbidden_when_signup_is_disabled(full_auth, api_client):
    full_auth.AUTH_DISABLE_SIGNUP = True
    response = register(api_client)
    assert response.json() == {"error": "Registration is disabled", "status": 403}


def test_register_is_forbidden_in_admin_mode(settings, api_client):
    settings.AUTH_MODE = "admin"
    assert register(api_client).json() == {"error": "Registration is disabled", "status": 403}


def test_login_then_me(full_auth, api_client, make_user):
    make_user("grace@example.com", password=PASSWORD)
    response = login(api_client, email="Grace@Example.com ")
    assert response.status_code == 200
    me = api_client.get("/v1/auth/me", **bearer(response.json()["access_token"]))
    assert me.json()["email"] == "grace@example.com"
    assert me.json()["roles"] == ["user"]
    assert set(me.json()) >= {"id", "email", "name", "roles", "avatar_url"}


def test_me_without_credentials_is_401(full_auth, api_client):
    response = api_client.get("/v1/auth/me")
    assert response.status_code == 401
    assert response.json() == {"error": "Unauthorized", "status": 401}


def test_me_in_none_mode_is_the_anonymous_admin(api_client):
    me = api_client.get("/v1/auth/me").json()
    assert me["id"] == "00000000-0000-0000-0000-000000000001"
    assert me["email"] == "anonymous@local"
    assert me["roles"] == ["admin"]


def test_superuser_has_admin_role(full_auth, api_client, make_user):
    user = make_user("root@example.com", password=PASSWORD)
    user.is_superuser = True
    user.save()
    token = login(api_client, email="root@example.com").json()["access_token"]
    assert api_client.get("/v1/auth/me", **bearer(token)).json()["roles"] == ["admin"]


def test_access_cookie_authenticates(full_auth, api_client, make_user):
    """Browsers (and EventSource for SSE) authenticate with the cookie login sets."""
    make_user("grace@example.com", password=PASSWORD)
    assert login(api_client, email="grace@example.com").status_code == 200
    me = api_client.get("/v1/auth/me")  # the test client replays the cookies like a browser
    assert me.status_code == 200
    assert me.json()["email"] == "grace@example.com"


def test_refresh_token_is_not_an_access_token(full_auth, api_client):
    body = register(api_client).json()
    assert api_client.get("/v1/auth/me", **bearer(body["refresh_token"])).status_code == 401


def test_inactive_user_token_is_401(full_auth, api_client):
    body = register(api_client).json()
    User.objects.filter(email="ada@example.com").update(is_active=False)
    assert api_client.get("/v1/auth/me", **bearer(body["access_token"])).status_code == 401


# --------------------------------------------------------------------------- failed logins
def test_failed_logins_are_identical_for_unknown_email_and_wrong_password(full_auth, settings, api_client, make_user):
    # Real Argon2 here: the point is that both paths pay for one hash verification.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.Argon2PasswordHasher"]
    make_user("grace@example.com", password=PASSWORD)

    def timed(email, password):
        started = time.perf_counter()
        response = login(api_client, email=email, password=password)
        return response, time.perf_counter() - started

    login(api_client, email="warm@example.com", password="x")  # warm up the dummy hash
    wrong, wrong_time = min((timed("grace@example.com", "Wrong-pass-1") for _ in range(2)), key=lambda r: r[1])
    unknown, unknown_time = min((timed("nobody@example.com", "Wrong-pass-1") for _ in range(2)), key=lambda r: r[1])

    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json() == {"error": "Invalid email or password", "status": 401}
    assert wrong.headers.get("Set-Cookie") is None and unknown.headers.get("Set-Cookie") is None
    # Both paths run Argon2 once; without the dummy hash the unknown email would be ~100x faster.
    ratio = max(wrong_time, unknown_time) / min(wrong_time, unknown_time)
    assert ratio < 3, f"wrong password {wrong_time:.4f}s vs unknown email {unknown_time:.4f}s"


def test_password_less_accounts_fail_like_unknown_ones(full_auth, api_client):
    """The anonymous user and OAuth-only users have no usable password: same answer, no disclosure."""
    response = login(api_client, email="anonymous@local", password="anything-at-all")
    assert response.json() == {"error": "Invalid email or password", "status": 401}


def test_login_bad_body_is_400(full_auth, api_client):
    response = api_client.post("/v1/auth/login", {"email": "a@example.com"}, format="json")
    assert response.json() == {"error": "Invalid request", "status": 400}


def test_login_when_password_auth_is_disabled(full_auth, api_client, make_user):
    make_user("grace@example.com", password=PASSWORD)
    full_auth.AUTH_DISABLE_PASSWORD = True
    response = login(api_client, email="grace@example.com")
    assert response.json() == {"error": "Password authentication is disabled", "status": 401}


# --------------------------------------------------------------------------- admin mode
def test_admin_mode_creates_the_configured_admin_on_first_login(settings, api_client):
    settings.AUTH_MODE = "admin"
    settings.AUTH_ADMIN_EMAIL = "ops@example.com"
    settings.AUTH_ADMIN_PASSWORD = "Env-Admin-Pass-1"
    assert login(api_client, email="ops@example.com", password="nope-nope-1").status_code == 401
    assert not User.objects.filter(email="ops@example.com").exists()

    response = login(api_client, email="ops@example.com", password="Env-Admin-Pass-1")
    assert response.status_code == 200
    me = api_client.get("/v1/auth/me", **bearer(response.json()["access_token"])).json()
    assert me["roles"] == ["admin"]
    # A second login reuses the row.
    assert login(api_client, email="ops@example.com", password="Env-Admin-Pass-1").status_code == 200
    assert User.objects.filter(email="ops@example.com").count() == 1


# --------------------------------------------------------------------------- cookies
def test_login_sets_cookies_with_contract_attributes(full_auth, api_client, make_user):
    make_user("grace@example.com", password=PASSWORD)
    full_auth.AUTH_COOKIE_SECURE = True
    response = login(api_client, email="grace@example.com")
    body = response.json()

    access = response.cookies["access_token"]
    assert access.value == body["access_token"]
    assert access["path"] == "/"
    assert access["httponly"] is True
    assert access["secure"] is True
    assert access["samesite"] == "Lax"
    assert access["max-age"] == 900

    refresh = response.cookies["refresh_token"]
    assert refresh.value == body["refresh_token"]
    assert refresh["path"] == "/v1/auth"
    assert refresh["httponly"] is True
    assert refresh["secure"] is True
    assert refresh["samesite"] == "Strict"
    assert refresh["max-age"] == 30 * 24 * 3600


def test_cookie_secure_flag_follows_setting(full_auth, api_client, make_user):
    make_user("grace@example.com", password=PASSWORD)
    full_auth.AUTH_COOKIE_SECURE = False
    response = login(api_client, email="grace@example.com")
    assert not response.cookies["access_token"]["secure"]


def test_refresh_cookie_path_follows_api_prefix(full_auth, settings):
    from apps.accounts.views import refresh_cookie_path

    settings.API_PREFIX = "api"
    assert refresh_cookie_path() == "/api/v1/auth"


def test_logout_clears_cookies_and_revokes_refresh_token(full_auth, api_client):
    body = register(api_client).json()
    response = api_client.post("/v1/auth/logout")
    assert response.status_code == 200
    assert response.content == b""
    assert response.cookies["access_token"].value == ""
    assert response.cookies["access_token"]["max-age"] == 0
    assert response.cookies["access_token"]["path"] == "/"
    assert response.cookies["refresh_token"].value == ""
    assert response.cookies["refresh_token"]["max-age"] == 0
    assert response.cookies["refresh_token"]["path"] == "/v1/auth"
    # The refresh token (sent as a cookie) no longer works.
    again = api_client.post("/v1/auth/refresh", {"refresh_token": body["refresh_token"]}, format="json")
    assert again.json() == {"error": "Invalid refresh token", "status": 401}
    assert api_client.get("/v1/auth/me").status_code == 401


def test_logout_without_anything_is_still_200(full_auth, api_client):
    assert api_client.post("/v1/auth/logout", "not json", content_type="application/json").status_code == 200


# --------------------------------------------------------------------------- refresh rotation
def test_refresh_rotates_and_rejects_reuse(full_auth, api_client):
    first = register(api_client).json()
    rotated = api_client.post("/v1/auth/refresh", {"refresh_token": first["refresh_token"]}, format="json")
    assert rotated.status_code == 200
    second = rotated.json()
    assert second["refresh_token"] != first["refresh_token"]
    assert api_client.get("/v1/auth/me", **bearer(second["access_token"])).status_code == 200
    assert rotated.cookies["refresh_token"].value == second["refresh_token"]

    reused = api_client.post("/v1/auth/refresh", {"refresh_token": first["refresh_token"]}, format="json")
    assert reused.status_code == 401
    assert reused.json() == {"error": "Invalid refresh token", "status": 401}
    # The new one still works exactly once.
    again = api_client.post("/v1/auth/refresh", {"refresh_token": second["refresh_token"]}, format="json")
    assert again.status_code == 200


def test_refresh_tokens_are_stored_hashed(full_auth, api_client):
    import hashlib

    body = register(api_client).json()
    stored = list(RefreshToken.objects.values_list("token_hash", flat=True))
    assert stored == [hashlib.sha256(body["refresh_token"].encode()).hexdigest()]


def test_refresh_from_cookie(full_auth, api_client):
    register(api_client)  # sets the refresh cookie on the client
    # The cookie has Path=/v1/auth, so the test client sends it to /v1/auth/refresh.
    response = api_client.post("/v1/auth/refresh")
    assert response.status_code == 200


def test_refresh_rejects_access_tokens_and_garbage(full_auth, api_client):
    body = register(api_client).json()
    api_client.cookies.clear()
    for token in (body["access_token"], "garbage", ""):
        response = api_client.post("/v1/auth/refresh", {"refresh_token": token}, format="json")
        assert response.status_code == 401, token


def test_expired_refresh_token_is_401(full_auth, api_client):
    from apps.accounts.tokens import encode_refresh

    register(api_client)
    user = User.objects.get(email="ada@example.com")
    token, _ = encode_refresh(user_id=str(user.pk), now=int(time.time()) - 31 * 24 * 3600)
    response = api_client.post("/v1/auth/refresh", {"refresh_token": token}, format="json")
    assert response.json() == {"error": "Refresh token expired", "status": 401}


# --------------------------------------------------------------------------- config and modes
@pytest.mark.parametrize(
    ("mode", "password", "signup"),
    [("none", False, False), ("admin", True, False), ("full", True, True), ("external", False, False)],
)
def test_auth_config(settings, api_client, mode, password, signup):
    settings.AUTH_MODE = mode
    response = api_client.get("/v1/auth/config")
    assert response.json() == {
        "mode": mode,
        "password_auth_enabled": password,
        "oauth_providers": [],
        "signup_enabled": signup,
    }


def test_auth_config_ignores_bad_credentials(full_auth, api_client):
    response = api_client.get("/v1/auth/config", HTTP_AUTHORIZATION="Bearer garbage")
    assert response.status_code == 200


@pytest.mark.parametrize("path", ["/v1/auth/login", "/v1/auth/register", "/v1/auth/refresh"])
def test_external_mode_has_no_login_routes(settings, api_client, path):
    settings.AUTH_MODE = "external"
    response = api_client.post(path, {}, format="json")
    assert response.json() == {"error": "Not found", "status": 404}


def test_external_mode_still_accepts_api_keys(settings, api_client, make_user):
    from apps.accounts.models import DEFAULT_ORG_ID
    from apps.accounts.services import api_key_create

    user = make_user("grace@example.com")
    _, key = api_key_create(user=user, organization=user.organizations.get(pk=DEFAULT_ORG_ID), name="ci")
    settings.AUTH_MODE = "external"
    assert api_client.get("/v1/auth/me").status_code == 401
    assert api_client.get("/v1/auth/me", HTTP_AUTHORIZATION=key).json()["email"] == "grace@example.com"


def test_none_mode_recreates_a_deleted_anonymous_user(api_client, default_org):
    User.objects.filter(email="anonymous@local").delete()
    default_org.delete()
    me = api_client.get("/v1/auth/me")
    assert me.status_code == 200
    assert me.json()["email"] == "anonymous@local"
    assert me.json()["organization_id"] == "org_00000000000000000000000000000001"
