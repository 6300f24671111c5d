"""Which organization a request acts in.

The organization comes from the caller's memberships: the one named by the `X-Org-Id` header
when present (403 if the caller is not a member), else the caller's oldest membership. An API
key is bound to the organization it was created in: it acts there only (a header naming another
organization is 403, even one the key's user belongs to).
The result is stored on the request as `request.organization` and `request.membership`,
which `apps.core.permissions.OrgScopedMixin` and `IsAdmin` read.
"""

from apps.core import ids
from apps.core.exceptions import Forbidden

from .models import Membership, Organization


def resolve_membership(user, org_header: str | None, organization: Organization | None = None) -> Membership:
    memberships = Membership.objects.select_related("organization").filter(user=user)
    if organization is not None:
        memberships = memberships.filter(organization=organization)
    if org_header:
        org_id = ids.parse_id("org", org_header.strip())
        membership = memberships.filter(organization_id=org_id).first() if org_id else None
        if membership is None:
            raise Forbidden(log_detail=f"user {user.pk} may not act in {org_header[:80]!r}")
        return membership
    membership = memberships.order_by("created_at", "id").first()
    if membership is None:
        raise Forbidden(log_detail=f"user {user.pk} belongs to no (matching) organization")
    return membership


def attach_organization(request, user, organization: Organization | None = None) -> None:
    """Resolve and store the acting organization on the (Django) request.

    `organization` pins the choice (API keys); the caller must still be a member there.
    """
    membership = resolve_membership(user, request.META.get("HTTP_X_ORG_ID"), organization)
    django_request = getattr(request, "_request", request)
    django_request.membership = membership
    django_request.organization = membership.organization
