from rest_framework.routers import SimpleRouter

from .views import AgentViewSet

app_name = "agents"

router = SimpleRouter(trailing_slash=False)
router.register("agents", AgentViewSet, basename="agent")

urlpatterns = router.urls
