from django.urls import path
from rest_framework.routers import SimpleRouter

from .views import SessionStreamView, SessionViewSet

app_name = "sessions"

router = SimpleRouter(trailing_slash=False)
router.register("sessions", SessionViewSet, basename="session")

urlpatterns = [
    # The stream is a dedicated view, not a viewset action (conventions rule 13).
    path("sessions/<str:pk>/sse", SessionStreamView.as_view(), name="session-sse"),
    *router.urls,
]
