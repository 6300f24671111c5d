from rest_framework.routers import SimpleRouter

from .views import SkillViewSet

app_name = "skills"

router = SimpleRouter(trailing_slash=False)
router.register("skills", SkillViewSet, basename="skill")

urlpatterns = router.urls
