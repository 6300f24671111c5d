from rest_framework.routers import SimpleRouter

from .views import LlmModelViewSet, LlmProviderViewSet

app_name = "llm"

router = SimpleRouter(trailing_slash=False)
router.register("llm-providers", LlmProviderViewSet, basename="llmprovider")
router.register("llm-models", LlmModelViewSet, basename="llmmodel")

urlpatterns = router.urls
