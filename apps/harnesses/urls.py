from django.urls import path
from rest_framework.routers import SimpleRouter

from .views import HarnessExampleListView, HarnessViewSet

app_name = "harnesses"

router = SimpleRouter(trailing_slash=False)
router.register("harnesses", HarnessViewSet, basename="harness")

urlpatterns = [path("harness-examples", HarnessExampleListView.as_view(), name="harness-examples"), *router.urls]
