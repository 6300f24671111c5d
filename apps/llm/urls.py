from rest_framework.routers import SimpleRouter

from .views import LlmModelViewSet, LlmProviderViewSet, ModelViewSet, ProviderViewSet

app_name = "llm"

router = SimpleRouter(trailing_slash=False)
router.register("llm-providers", LlmProviderViewSet, basename="llmprovider")
router.register("llm-models", LlmModelViewSet, basename="llmmodel")
# The published spec's paths (SDK 0.3.1); the two above are the older shapes, kept for existing clients.
router.register("providers", ProviderViewSet, basename="provider")
router.register("models", ModelViewSet, basename="model")

urlpatterns = router.urls
