"""URL wiring: /health, /v1/… (all apps' routes in one flat list), OpenAPI + Swagger UI, admin, JSON error handlers."""

from importlib import import_module

from django.conf import settings
from django.contrib import admin
from django.urls import URLPattern, URLResolver, include, path, re_path
from drf_spectacular.views import SpectacularJSONAPIView, SpectacularSwaggerView

from apps.core.views import health, not_found

# The /v1 routes of every app in one flat list. Django tries patterns in order, and each include()
# that does not match raises and catches an exception: with one include per app, resolving
# /v1/sessions cost ~6x what a top-level route does; flat, every /v1 route resolves in one pass.
# (The apps' `app_name` namespaces are not used for reversing; route names are unique across apps,
# tests/test_urls.py checks that.)
V1_APPS = (
    "accounts",
    "harnesses",
    "agents",
    "capabilities",
    "llm",
    "sessions",
    "files",
    "webhooks",
    "schedules",
    "healthchecks",
)
v1 = [pattern for app in V1_APPS for pattern in import_module(f"apps.{app}.urls").urlpatterns]

api: list[URLPattern | URLResolver] = [
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
