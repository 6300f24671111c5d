from django.urls import path
from rest_framework.routers import SimpleRouter

from .views import ApiKeyViewSet, AuthViewSet, OrganizationMemberViewSet, OrganizationViewSet, UserViewSet

app_name = "accounts"

router = SimpleRouter(trailing_slash=False)
router.register("auth/api-keys", ApiKeyViewSet, basename="api-key")
router.register("auth", AuthViewSet, basename="auth")
router.register("users", UserViewSet, basename="user")
router.register("orgs", OrganizationViewSet, basename="organization")

members = OrganizationMemberViewSet.as_view({"get": "list", "post": "create"})
member = OrganizationMemberViewSet.as_view({"patch": "partial_update", "delete": "destroy"})

urlpatterns = [
    *router.urls,
    path("orgs/<str:org>/members", members, name="organization-member-list"),
    path("orgs/<str:org>/members/<str:user_id>", member, name="organization-member-detail"),
]
