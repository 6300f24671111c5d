from django.urls import path

from .views import UsageExportView, UsageView

app_name = "usage"

urlpatterns = [
    path("usage", UsageView.as_view(), name="usage"),
    path("usage/export", UsageExportView.as_view(), name="usage-export"),
]
