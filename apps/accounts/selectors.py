"""Reads shared by the auth views, the authentication class, the users list and the organization routes."""

import uuid

from django.db.models import OuterRef, Q, QuerySet, Subquery

from .models import ApiKey, Membership, Organization, User

ADMIN_ROLES = frozenset({"owner", "admin"})


def roles_for(*, user: User, membership_role: str | None) -> list[str]:
    """Contract roles: ["admin"] for a superuser or an owner/admin of the acting organization, else ["user"]."""
    if user.is_superuser or membership_role in ADMIN_ROLES:
        return ["admin"]
    return ["user"]


def default_membership(*, user: User) -> Membership | None:
    """The membership a request acts in when it names no organization (the oldest one)."""
    return Membership.objects.select_related("organization").filter(user=user).order_by("created_at", "id").first()


def user_list(*, organization: Organization, search: str | None = None) -> QuerySet[User]:
    """Members of `organization`, newest first, with their role there as `org_role`.

    `search` is a case-insensitive substring of name or email.
    """
    role = Membership.objects.filter(user=OuterRef("pk"), organization=organization).values("role")[:1]
    queryset = (
        User.objects.filter(memberships__organization=organization)
        .annotate(org_role=Subquery(role))
        .order_by("-created_at", "-id")
    )
    if search:
        queryset = queryset.filter(Q(name__icontains=search) | Q(email__icontains=search))
    return queryset


def api_key_list(*, user: User, organization: Organization) -> QuerySet[ApiKey]:
    """The caller's keys in the acting organization, newest first."""
    return ApiKey.objects.filter(user=user, organization=organization).order_by("-created_at", "-id")


def organization_list(*, user: User) -> QuerySet[Organization]:
    """The organizations `user` is a member of, oldest first."""
    return Organization.objects.filter(memberships__user=user).order_by("created_at", "id")


def membership_in(*, user: User, organization_id: uuid.UUID | None) -> Membership | None:
    """`user`'s membership in the organization with primary key `organization_id` (loaded), or None."""
    if organization_id is None:
        return None
    return Membership.objects.select_related("organization").filter(user=user, organization_id=organization_id).first()


def member_get(*, organization: Organization, user_id: uuid.UUID | None) -> Membership | None:
    """The membership of user `user_id` in `organization` (with the user loaded), or None."""
    if user_id is None:
        return None
    return Membership.objects.select_related("user").filter(organization=organization, user_id=user_id).first()
