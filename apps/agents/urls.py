from rest_framework.routers import SimpleRouter

app_name = "agents"

router = SimpleRouter(trailing_slash=False)

urlpatterns = router.urls
