"""Which organization a request acts in.

The organization comes from the caller's memberships: the one named by the `X-Org-Id` header
when present (403 if the caller is not a member), else the caller's oldest membership. An API
key is bound to the organization it was created in: it acts there only (a header naming another
organization is 403, even one the key's user belongs to).
The result is stored on the request as `request.organization` and `request.membership`,
which `apps.core.permissions.OrgScopedMixin` and `IsAdmin` read.

Authentication resolves the caller and the acting membership together (`acting_membership`: one
query for user + membership + organization); `attach_organization` is the fallback for requests
authenticated some other way (tests' force_authenticate, Django admin sessions).
"""

import uuid
from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest
from rest_framework.request import Request

from apps.core import ids
from apps.core.exceptions import Forbidden
from apps.core.logcontext import log_context_bind

from .models import Membership, Organization, User


def _memberships(org_header: str | None) -> QuerySet[Membership] | None:
    """Memberships narrowed to the `X-Org-Id` organization; None when the header is malformed."""
    memberships = Membership.objects.select_related("organization")
    if org_header:
        org_id = ids.parse_id("org", org_header.strip())
        if org_id is None:
            return None
        memberships = memberships.filter(organization_id=org_id)
    # Oldest first: with no header the caller acts in the organization they joined first.
    return memberships.order_by("created_at", "id")


def acting_membership(user_id: uuid.UUID | None, org_header: str | None) -> Membership | None:
    """The acting membership of an *active* user, with `.user` and `.organization` loaded: one query.

    None when the user is unknown or inactive, is not a member of the named organization, has no
    membership at all, or the header is malformed. The caller tells those apart (401 vs 403) with
    `user_is_active`, only on that failure path, so a successful request costs exactly one query.
    """
    memberships = _memberships(org_header)
    if memberships is None or user_id is None:
        return None
    return memberships.select_related("user").filter(user_id=user_id, user__is_active=True).first()


def resolve_membership(user: User, org_header: str | None, organization: Organization | None = None) -> Membership:
    memberships = _memberships(org_header)
    if memberships is not None and organization is not None:
        memberships = memberships.filter(organization=organization)
    membership = memberships.filter(user=user).first() if memberships is not None else None
    if membership is None:
        raise Forbidden(log_detail=f"user {user.pk} may not act in {(org_header or '(oldest membership)')[:80]!r}")
    return membership


def attach_membership(request: HttpRequest | Request, membership: Membership) -> None:
    """Store an already resolved membership (and its organization) on the (Django) request."""
    django_request: Any = getattr(request, "_request", request)  # membership/organization are our own attributes
    django_request.membership = membership
    django_request.organization = membership.organization
    # The request's log lines (and its access log line) name the organization it acts in.
    log_context_bind(django_request.META, organization_id=ids.format_id("org", membership.organization_id))


def attach_organization(request: HttpRequest | Request, user: User, organization: Organization | None = None) -> None:
    """Resolve and store the acting organization on the (Django) request.

    `organization` pins the choice (API keys); the caller must still be a member there.
    """
    attach_membership(request, resolve_membership(user, request.META.get("HTTP_X_ORG_ID"), organization))
