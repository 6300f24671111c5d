from rest_framework.routers import SimpleRouter

from .views import CapabilityViewSet

app_name = "capabilities"

router = SimpleRouter(trailing_slash=False)
router.register("capabilities", CapabilityViewSet, basename="capability")

urlpatterns = router.urls
