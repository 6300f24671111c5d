"""URL wiring: /health, /v1/… (one include per app), OpenAPI + Swagger UI, admin, JSON error handlers."""

from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularJSONAPIView, SpectacularSwaggerView

from apps.core.views import health, not_found

v1 = [
    path("", include("apps.accounts.urls")),
    path("", include("apps.agents.urls")),
    path("", include("apps.capabilities.urls")),
    path("", include("apps.llm.urls")),
    path("", include("apps.sessions.urls")),
    path("", include("apps.files.urls")),
]

api = [
    path("health", health, name="health"),
    path("v1/", include(v1)),
    path("api-doc/openapi.json", SpectacularJSONAPIView.as_view(), name="openapi-schema"),
    path("swagger-ui/", SpectacularSwaggerView.as_view(url_name="openapi-schema"), name="swagger-ui"),
]

prefix = f"{settings.API_PREFIX}/" if settings.API_PREFIX else ""
urlpatterns = [
    path(prefix, include(api)),
    path("admin/", admin.site.urls),
    # Anything else is a JSON 404, even with DEBUG on.
    re_path(r"^.*$", not_found),
]

handler400 = "apps.core.exception_handler.handler400"
handler403 = "apps.core.exception_handler.handler403"
handler404 = "apps.core.exception_handler.handler404"
handler500 = "apps.core.exception_handler.handler500"
