"""The admin site of Everruns: the product's name in the header, and the operations dashboard on its index.

Installed in place of "django.contrib.admin" (settings.INSTALLED_APPS names `EverrunsAdminConfig`), the way
Django documents for a custom default site, so every `admin.register` lands here. It lives in apps.runtime,
the top layer, because the dashboard reads every app's rows (apps.runtime.dashboard); this module itself
imports no models (it is loaded while the app registry is being populated).
"""

from django.contrib import admin
from django.contrib.admin.apps import AdminConfig


class EverrunsAdminSite(admin.AdminSite):
    site_header = "Everruns operations"
    site_title = "Everruns admin"
    index_title = "Operations"
    index_template = "admin/everruns_index.html"

    def index(self, request, extra_context=None):
        """The admin index with the operations dashboard above the list of models."""
        from .dashboard import dashboard_get

        return super().index(request, {"dashboard": dashboard_get(), **(extra_context or {})})


class EverrunsAdminConfig(AdminConfig):
    default_site = "apps.runtime.admin_site.EverrunsAdminSite"
