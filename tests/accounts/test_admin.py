"""Django admin: email-login users, organizations with memberships, API keys without their hash."""

import pytest
from django.test import Client

from apps.accounts.models import ApiKey, User
from apps.accounts.services import api_key_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(make_user) -> Client:
    root = make_user("root@example.com")
    root.is_staff = root.is_superuser = True
    root.save()
    client = Client()
    client.force_login(root)
    return client


@pytest.fixture
def api_key(make_user, default_org):
    row, raw = api_key_create(user=make_user("grace@example.com"), organization=default_org, name="ci")
    return row, raw


def test_admin_login_with_email(make_user):
    make_user("ops@example.com", password="Admin-Pass-123")
    User.objects.filter(email="ops@example.com").update(is_staff=True)
    client = Client()
    response = client.post("/admin/login/?next=/admin/", {"username": "ops@example.com", "password": "Admin-Pass-123"})
    assert response.status_code == 302
    assert client.get("/admin/").status_code == 200


@pytest.mark.parametrize(
    "url",
    [
        "/admin/accounts/user/",
        "/admin/accounts/user/add/",
        "/admin/accounts/organization/",
        "/admin/accounts/membership/",
        "/admin/accounts/apikey/",
        "/admin/accounts/refreshtoken/",
    ],
)
def test_admin_pages_render(staff_client, url):
    assert staff_client.get(url).status_code == 200


def test_admin_creates_user_with_normalized_email_and_membership(staff_client, default_org):
    response = staff_client.post(
        "/admin/accounts/user/add/",
        {
            "email": "New.Person@Example.com",
            "name": "New",
            "usable_password": "true",
            "password1": "Quite-Long-Pass-1",
            "password2": "Quite-Long-Pass-1",
            "memberships-TOTAL_FORMS": "1",
            "memberships-INITIAL_FORMS": "0",
            "memberships-0-organization": str(default_org.pk),
            "memberships-0-role": "member",
        },
    )
    assert response.status_code == 302, response.content[:500]
    user = User.objects.get(email="new.person@example.com")
    assert user.check_password("Quite-Long-Pass-1")
    assert user.memberships.get().organization == default_org


def test_user_and_organization_pages_show_memberships(staff_client, make_user, default_org):
    user = make_user("grace@example.com")
    assert b"grace@example.com" in staff_client.get(f"/admin/accounts/organization/{default_org.pk}/change/").content
    assert staff_client.get(f"/admin/accounts/user/{user.pk}/change/").status_code == 200


def test_api_key_admin_shows_prefix_never_hash(staff_client, api_key):
    row, raw = api_key
    listing = staff_client.get("/admin/accounts/apikey/").content.decode()
    detail = staff_client.get(f"/admin/accounts/apikey/{row.pk}/change/").content.decode()
    for page in (listing, detail):
        assert row.key_prefix in page
        assert row.key_hash not in page
        assert raw not in page


def test_revoke_action_deletes_keys(staff_client, api_key, api_client, settings):
    row, raw = api_key
    settings.AUTH_MODE = "full"
    assert api_client.get("/v1/auth/me", HTTP_AUTHORIZATION=raw).status_code == 200
    response = staff_client.post("/admin/accounts/apikey/", {"action": "revoke", "_selected_action": [str(row.pk)]})
    assert response.status_code == 302
    assert not ApiKey.objects.exists()
    assert api_client.get("/v1/auth/me", HTTP_AUTHORIZATION=raw).status_code == 401
