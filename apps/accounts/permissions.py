"""Access rules of the organization routes (/v1/orgs/{org}/…), where the organization comes from the path."""

from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.views import APIView

from apps.core.permissions import user_is_admin

from .selectors import ADMIN_ROLES


class IsOrgAdmin(BasePermission):
    """Only admins (owners/admins, or superusers) of the organization in the path may call this endpoint."""

    def has_permission(self, request: Request, view: APIView) -> bool:
        membership = getattr(view, "org_membership", None)
        if membership is None:  # no path organization resolved (e.g. schema generation): the acting one decides
            return user_is_admin(request)
        return bool(request.user and request.user.is_superuser) or membership.role in ADMIN_ROLES
