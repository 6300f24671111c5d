"""DRF authentication for every /v1 endpoint (contract 4.2).

AUTH_MODE=none: every request runs as the seeded anonymous admin of the default organization.
Other modes: credentials from the Authorization header or the access_token cookie.
"""

from django.conf import settings
from rest_framework.authentication import BaseAuthentication

from .models import ANONYMOUS_USER_ID, User
from .tenancy import attach_organization


class EverrunsAuthentication(BaseAuthentication):
    def authenticate(self, request):
        if settings.AUTH_MODE == "none":
            user = User.objects.filter(pk=ANONYMOUS_USER_ID).first()
            if user is None:
                return None
            attach_organization(request, user)
            return user, None
        return None

    def authenticate_header(self, request) -> str:
        return 'Bearer realm="api"'
