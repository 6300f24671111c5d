import pytest

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.urls")]


def test_member_of_two_orgs_picks_one_with_header(make_org, make_user, client_for):
    from apps.accounts.models import Membership

    second = make_org("Second")
    user = make_user("two@example.com")  # member of the default org
    Membership.objects.create(user=user, organization=second, role="admin")
    # Default org (oldest membership): a member, so the admin-only route is 403.
    assert client_for(user).get("/v1/_test/admin-only").status_code == 403
    # Acting in the second org, where the user is an admin.
    assert client_for(user, org=second).get("/v1/_test/admin-only").status_code == 200


def test_header_naming_foreign_org_is_403(make_org, make_user, client_for):
    foreign = make_org("Foreign")
    user = make_user("one@example.com")
    response = client_for(user, org=foreign).get("/v1/_test/admin-only")
    assert response.json() == {"error": "Forbidden", "status": 403}


def test_superuser_is_admin(make_user, client_for):
    user = make_user("root@example.com")
    user.is_superuser = True
    user.save()
    assert client_for(user).get("/v1/_test/admin-only").status_code == 200
