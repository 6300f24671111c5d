"""/v1/orgs: the caller's organizations, and membership management by an organization's admins."""

import pytest

from apps.accounts.models import DEFAULT_ORG_ID, Membership
from apps.core.ids import format_id

pytestmark = pytest.mark.django_db

DEFAULT = format_id("org", DEFAULT_ORG_ID)


@pytest.fixture
def admin(make_user):
    return make_user("org-admin@example.com", role="admin")


@pytest.fixture
def as_admin(admin, bearer_client_for, full_auth):
    return bearer_client_for(admin)


def test_admin_adds_a_registered_user_who_then_acts_there_with_that_role(
    as_admin, api_client, make_org, make_user, bearer_client_for
):
    # Someone who signed up elsewhere (their own organization) is added to the default one as admin.
    other = make_org("Elsewhere")
    newcomer = make_user("newcomer@example.com", org=other, role="owner")
    response = as_admin.post(
        f"/v1/orgs/{DEFAULT}/members", {"email": "NEWCOMER@example.com", "role": "admin"}, format="json"
    )
    assert response.status_code == 201
    assert response.json()["email"] == "newcomer@example.com" and response.json()["roles"] == ["admin"]
    as_newcomer = bearer_client_for(newcomer, org=Membership.objects.get(user=newcomer, role="admin").organization)
    assert as_newcomer.get("/v1/users").status_code == 200  # admin-only, now allowed in the default org
    listed = as_admin.get(f"/v1/orgs/{DEFAULT}/members").json()
    assert {"newcomer@example.com", "org-admin@example.com"} <= {m["email"] for m in listed["data"]}
    assert (
        as_admin.post(f"/v1/orgs/{DEFAULT}/members", {"email": "newcomer@example.com"}, format="json").status_code
        == 409
    )


def test_role_change_and_removal_apply_on_the_next_request(as_admin, make_user, bearer_client_for):
    member = make_user("someone@example.com")
    as_member = bearer_client_for(member)
    assert as_member.get("/v1/users").status_code == 403
    url = f"/v1/orgs/{DEFAULT}/members/{member.pk}"
    assert as_admin.patch(url, {"role": "admin"}, format="json").json()["roles"] == ["admin"]
    assert as_member.get("/v1/users").status_code == 200
    assert as_admin.patch(url, {"role": "user"}, format="json").json()["roles"] == ["user"]
    assert as_member.get("/v1/users").status_code == 403
    assert as_admin.delete(url).status_code == 204
    assert not Membership.objects.filter(user=member).exists()
    assert as_admin.delete(url).json() == {"error": "User not found", "status": 404}


def test_unknown_email_bad_role_and_last_admin(as_admin, admin):
    assert as_admin.post(f"/v1/orgs/{DEFAULT}/members", {"email": "nobody@example.com"}, format="json").json() == {
        "error": "User not found",
        "status": 404,
    }
    bad = as_admin.post(
        f"/v1/orgs/{DEFAULT}/members", {"email": "org-admin@example.com", "role": "owner"}, format="json"
    )
    assert bad.json() == {"error": "Invalid request", "status": 400}
    # The anonymous user (none mode) is an admin of the default org too: demote it first.
    Membership.objects.filter(organization_id=DEFAULT_ORG_ID).exclude(user=admin).update(role="member")
    url = f"/v1/orgs/{DEFAULT}/members/{admin.pk}"
    last = {"error": "An organization must keep at least one admin", "status": 409}
    assert as_admin.patch(url, {"role": "user"}, format="json").json() == last
    assert as_admin.delete(url).json() == last
    assert Membership.objects.get(user=admin).role == "admin"


def test_members_cannot_manage_members_or_rename(full_auth, make_user, bearer_client_for):
    as_member = bearer_client_for(make_user("plain@example.com"))
    forbidden = {"error": "Forbidden", "status": 403}
    assert as_member.get(f"/v1/orgs/{DEFAULT}/members").json() == forbidden
    assert (
        as_member.post(f"/v1/orgs/{DEFAULT}/members", {"email": "plain@example.com"}, format="json").json() == forbidden
    )
    assert as_member.patch(f"/v1/orgs/{DEFAULT}", {"name": "Mine"}, format="json").json() == forbidden
    assert as_member.get(f"/v1/orgs/{DEFAULT}").json()["id"] == DEFAULT  # reading is for every member


def test_another_organization_is_404_like_a_missing_one(as_admin, make_org, make_user):
    foreign = make_org("Foreign")
    stranger = make_user("stranger@example.com", org=foreign)
    missing = {"error": "Organization not found", "status": 404}
    foreign_id = format_id("org", foreign.pk)
    for response in (
        as_admin.get(f"/v1/orgs/{foreign_id}"),
        as_admin.patch(f"/v1/orgs/{foreign_id}", {"name": "x"}, format="json"),
        as_admin.get(f"/v1/orgs/{foreign_id}/members"),
        as_admin.post(f"/v1/orgs/{foreign_id}/members", {"email": "org-admin@example.com"}, format="json"),
        as_admin.delete(f"/v1/orgs/{foreign_id}/members/{stranger.pk}"),
        as_admin.get("/v1/orgs/org_" + "0" * 31 + "9"),
        as_admin.get("/v1/orgs/garbage"),
    ):
        assert response.json() == missing
    # A user of another organization is not a member here: 404, and nothing changes.
    response = as_admin.patch(f"/v1/orgs/{DEFAULT}/members/{stranger.pk}", {"role": "admin"}, format="json")
    assert response.json() == {"error": "User not found", "status": 404}
    assert Membership.objects.get(user=stranger).role == "member"
    assert foreign_id not in [o["id"] for o in as_admin.get("/v1/orgs").json()["data"]]


def test_create_list_and_rename_organizations(full_auth, make_user, bearer_client_for):
    as_member = bearer_client_for(make_user("founder@example.com"))
    created = as_member.post("/v1/orgs", {"name": "Acme"}, format="json")
    assert created.status_code == 201
    acme = created.json()
    assert acme["name"] == "Acme" and acme["default_provider_per_service"] == {}
    assert [o["id"] for o in as_member.get("/v1/orgs").json()["data"]] == [DEFAULT, acme["id"]]
    renamed = as_member.patch(f"/v1/orgs/{acme['id']}", {"name": "Acme Corp"}, format="json")
    assert renamed.json()["name"] == "Acme Corp"  # the founder is its owner
    assert as_member.get("/v1/auth/me", HTTP_X_ORG_ID=acme["id"]).json()["roles"] == ["admin"]
    assert as_member.post("/v1/orgs", {"name": ""}, format="json").status_code == 400
