"""The real URLconf plus /bench/bare-sessions (see bench/views.py)."""

from django.urls import path

from everruns.urls import handler400, handler403, handler404, handler500  # noqa: F401
from everruns.urls import urlpatterns as real_urlpatterns

from .views import AuthOnlyView, bare_sessions

urlpatterns = [
    path("bench/bare-sessions", bare_sessions),
    path("bench/auth-only", AuthOnlyView.as_view()),
    *real_urlpatterns,
]
