from django.urls import path
from rest_framework.routers import SimpleRouter

from .connection_views import UserConnectionListView, UserConnectionView
from .views import LlmModelViewSet, LlmProviderViewSet, ModelViewSet, ProviderViewSet

app_name = "llm"

router = SimpleRouter(trailing_slash=False)
router.register("llm-providers", LlmProviderViewSet, basename="llmprovider")
router.register("llm-models", LlmModelViewSet, basename="llmmodel")
# The published spec's paths (SDK 0.3.1); the two above are the older shapes, kept for existing clients.
router.register("providers", ProviderViewSet, basename="provider")
router.register("models", ModelViewSet, basename="model")

urlpatterns = [
    path("user/connections", UserConnectionListView.as_view(), name="user-connection-list"),
    path("user/connections/<str:provider>", UserConnectionView.as_view(), name="user-connection"),
    *router.urls,
]
