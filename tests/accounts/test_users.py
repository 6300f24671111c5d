"""GET /v1/users: admin-only, scoped to the acting organization, ?search, newest first (contract 2.10)."""

import pytest

from apps.accounts.models import Membership

pytestmark = pytest.mark.django_db


@pytest.fixture
def org_admin(full_auth, make_user):
    return make_user("boss@example.com", role="admin")


def test_lists_members_newest_first_with_roles(org_admin, make_user, make_org, bearer_client_for):
    make_user("alice@example.com")
    make_user("bob@example.com")
    make_user("stranger@example.com", org=make_org("Elsewhere"))

    response = bearer_client_for(org_admin).get("/v1/users")
    assert response.status_code == 200
    body = response.json()
    emails = [user["email"] for user in body["data"]]
    # The anonymous user of AUTH_MODE=none is a member of the default organization too.
    assert emails == ["bob@example.com", "alice@example.com", "boss@example.com", "anonymous@local"]
    assert body["total"] == 4
    assert "stranger@example.com" not in emails
    by_email = {user["email"]: user for user in body["data"]}
    assert by_email["boss@example.com"]["roles"] == ["admin"]
    assert by_email["alice@example.com"]["roles"] == ["user"]
    assert set(by_email["alice@example.com"]) == {
        "id",
        "email",
        "name",
        "avatar_url",
        "roles",
        "auth_provider",
        "created_at",
    }


def test_search_matches_name_or_email_case_insensitively(org_admin, make_user, bearer_client_for):
    make_user("alice@example.com")
    make_user("bob@builder.org")
    client = bearer_client_for(org_admin)
    assert [u["email"] for u in client.get("/v1/users?search=ALI").json()["data"]] == ["alice@example.com"]
    assert [u["email"] for u in client.get("/v1/users?search=builder").json()["data"]] == ["bob@builder.org"]
    assert client.get("/v1/users?search=nobody").json() == {"data": [], "total": 0}


def test_roles_are_per_organization(org_admin, make_user, make_org, bearer_client_for):
    other = make_org("Other")
    alice = make_user("alice@example.com")  # member of the default org
    Membership.objects.create(user=alice, organization=other, role="owner")
    Membership.objects.create(user=org_admin, organization=other, role="member")
    users = bearer_client_for(org_admin).get("/v1/users").json()["data"]
    assert {u["email"]: u["roles"] for u in users}["alice@example.com"] == ["user"]
    # org_admin is only a member in `other`: not allowed to list it.
    assert bearer_client_for(org_admin, org=other).get("/v1/users").json() == {"error": "Forbidden", "status": 403}


def test_member_is_forbidden(full_auth, make_user, bearer_client_for):
    response = bearer_client_for(make_user("alice@example.com")).get("/v1/users")
    assert response.json() == {"error": "Forbidden", "status": 403}


def test_registered_user_sees_only_their_own_organization(full_auth, api_client, make_user, settings):
    settings.AUTH_SIGNUP_ORGANIZATION = "own"
    make_user("alice@example.com")
    token = api_client.post(
        "/v1/auth/register", {"email": "new@example.com", "password": "Correct-Horse-9", "name": "New"}, format="json"
    ).json()["access_token"]
    body = api_client.get("/v1/users", HTTP_AUTHORIZATION=f"Bearer {token}").json()
    assert [u["email"] for u in body["data"]] == ["new@example.com"]
