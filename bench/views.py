"""The baseline for GET /v1/sessions: the same query and the same JSON without DRF or authentication.

It runs exactly the queries the API view runs for the page (count + one select with agent and
model joined) and builds the same body with the same function (`session_to_dict`), so the
difference measured is what the API adds on top: authentication and organization resolution
(their queries included), DRF's request/response cycle, pagination class and renderer.
"""

from django.http import JsonResponse
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts.models import DEFAULT_ORG_ID
from apps.core.permissions import request_organization
from apps.sessions.models import Session
from apps.sessions.serializers import session_to_dict


def bare_sessions(request):
    limit = min(int(request.GET.get("limit", 20)), 100)
    offset = int(request.GET.get("offset", 0))
    queryset = (
        Session.objects.filter(organization_id=DEFAULT_ORG_ID)
        .select_related("agent", "model")
        .order_by("-created_at", "-id")
    )
    total = queryset.count()
    rows = [session_to_dict(session) for session in queryset[offset : offset + limit]]
    return JsonResponse({"data": rows, "total": total, "offset": offset, "limit": limit})


class AuthOnlyView(APIView):
    """What authentication + organization resolution + DRF cost alone (no list, empty body)."""

    def get(self, request):
        request_organization(request)
        return Response({})
