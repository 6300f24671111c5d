from rest_framework.routers import SimpleRouter

from .views import ApiKeyViewSet, AuthViewSet, UserViewSet

app_name = "accounts"

router = SimpleRouter(trailing_slash=False)
router.register("auth/api-keys", ApiKeyViewSet, basename="api-key")
router.register("auth", AuthViewSet, basename="auth")
router.register("users", UserViewSet, basename="user")

urlpatterns = router.urls
