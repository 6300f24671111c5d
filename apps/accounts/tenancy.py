"""Which organization a request acts in.

The organization comes from the caller's memberships: the one named by the `X-Org-Id` header
when present (403 if the caller is not a member), else the caller's oldest membership.
The result is stored on the request as `request.organization` and `request.membership`,
which `apps.core.permissions.OrgScopedMixin` and `IsAdmin` read.
"""

from apps.core import ids
from apps.core.exceptions import Forbidden

from .models import Membership


def resolve_membership(user, org_header: str | None) -> Membership:
    memberships = Membership.objects.select_related("organization").filter(user=user)
    if org_header:
        org_id = ids.parse_id("org", org_header.strip())
        membership = memberships.filter(organization_id=org_id).first() if org_id else None
        if membership is None:
            raise Forbidden(log_detail=f"user {user.pk} is not a member of {org_header[:80]!r}")
        return membership
    membership = memberships.order_by("created_at", "id").first()
    if membership is None:
        raise Forbidden(log_detail=f"user {user.pk} belongs to no organization")
    return membership


def attach_organization(request, user) -> None:
    """Resolve and store the acting organization on the (Django) request."""
    membership = resolve_membership(user, request.META.get("HTTP_X_ORG_ID"))
    django_request = getattr(request, "_request", request)
    django_request.membership = membership
    django_request.organization = membership.organization
