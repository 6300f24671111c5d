from rest_framework.routers import SimpleRouter

from .views import McpServerViewSet

app_name = "mcp"

router = SimpleRouter(trailing_slash=False)
router.register("mcp-servers", McpServerViewSet, basename="mcp-server")

urlpatterns = router.urls
