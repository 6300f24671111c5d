from rest_framework.routers import SimpleRouter

from .views import ScheduleRunViewSet, ScheduleViewSet

app_name = "schedules"

router = SimpleRouter(trailing_slash=False)
router.register("durable/schedules", ScheduleViewSet, basename="schedule")
router.register("durable/executions", ScheduleRunViewSet, basename="schedule-execution")

urlpatterns = router.urls
