from rest_framework.routers import SimpleRouter

from .views import WebhookViewSet

app_name = "webhooks"

router = SimpleRouter(trailing_slash=False)
router.register("task-webhooks", WebhookViewSet, basename="webhook")

urlpatterns = router.urls
