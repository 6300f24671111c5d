"""Permission classes and the organization-scoping seam every org-owned resource uses.

The acting organization is resolved from the caller's memberships and the optional `X-Org-Id`
header (apps.accounts.tenancy), once per request, and read through `request_organization()` /
`request_membership()`. Viewsets that list or fetch org-owned rows mix in `OrgScopedMixin`, so
another organization's row is simply absent: 404, never 403.
"""

from typing import TYPE_CHECKING, Any

from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.views import APIView

from . import ids
from .scoping import get_in_org


def request_membership(request):
    """The caller's Membership in the organization this request acts in (resolved once, then cached).

    Authentication normally resolves it; requests authenticated another way (tests'
    force_authenticate, admin sessions) are resolved here on first use.
    """
    django_request = getattr(request, "_request", request)
    if not hasattr(django_request, "membership"):
        from apps.accounts.tenancy import attach_organization

        attach_organization(django_request, request.user)
    return django_request.membership


def request_organization(request):
    """The Organization this request acts in."""
    return request_membership(request).organization


def request_user(request):
    """The authenticated User of this request, or None."""
    user = getattr(request, "user", None)
    return user if user is not None and getattr(user, "is_authenticated", False) else None


def user_is_admin(request: Request) -> bool:
    """Admin = Django superuser, or admin/owner of the organization the request acts in."""
    user = getattr(request, "user", None)
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    if user.is_superuser:
        return True
    return request_membership(request).role in {"owner", "admin"}


class IsAdmin(BasePermission):
    """Only admins (superusers, organization owners/admins) may call this endpoint."""

    def has_permission(self, request: Request, view: APIView) -> bool:
        return user_is_admin(request)


class IsAdminForWrites(BasePermission):
    """Reads for any member; writes (POST/PUT/PATCH/DELETE) for admins only."""

    def has_permission(self, request: Request, view: APIView) -> bool:
        if request.method in ("GET", "HEAD", "OPTIONS"):
            return True
        return user_is_admin(request)


if TYPE_CHECKING:
    from rest_framework.generics import GenericAPIView

    _ViewBase = GenericAPIView[Any]  # mypy: the mixin's self is the viewset it is mixed into
else:
    _ViewBase = object


class OrgScopedMixin(_ViewBase):
    """For GenericViewSets over an org-owned model with a UUID primary key.

    - `get_queryset()` keeps only the caller's organization's rows;
    - `get_object()` parses the path id (`{id_prefix}_…`); a malformed, unknown or foreign id
      answers 404 with `not_found_message`.
    """

    id_prefix: str = ""
    not_found_message: str = "Not found"
    organization_field: str = "organization"
    # The model field the parsed path id is matched against (agents: "public_id").
    lookup_model_field: str = "pk"
    lookup_url_kwarg: str | None = "pk"

    def get_queryset(self):
        queryset = super().get_queryset()
        return queryset.filter(**{self.organization_field: request_organization(self.request)})

    def get_object(self):
        pk = ids.parse_id(self.id_prefix, self.kwargs.get(self.lookup_url_kwarg or self.lookup_field))
        obj = get_in_org(
            self.filter_queryset(self.get_queryset()),
            organization=request_organization(self.request),
            organization_field=self.organization_field,
            not_found=self.not_found_message,
            **{self.lookup_model_field: pk},
        )
        self.check_object_permissions(self.request, obj)
        return obj
