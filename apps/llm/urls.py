from rest_framework.routers import SimpleRouter

app_name = "llm"

router = SimpleRouter(trailing_slash=False)

urlpatterns = router.urls
