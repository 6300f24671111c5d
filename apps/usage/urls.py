from django.urls import path
from rest_framework.routers import SimpleRouter

from .budget_views import BudgetViewSet, SessionBudgetCheckView, SessionBudgetsView
from .views import UsageExportView, UsageView

app_name = "usage"

router = SimpleRouter(trailing_slash=False)
router.register("budgets", BudgetViewSet, basename="budget")

urlpatterns = [
    path("usage", UsageView.as_view(), name="usage"),
    path("usage/export", UsageExportView.as_view(), name="usage-export"),
    # Session sub-resources owned by this app (the sessions app does not know about budgets).
    path("sessions/<str:pk>/budgets", SessionBudgetsView.as_view(), name="session-budgets"),
    path("sessions/<str:pk>/budget-check", SessionBudgetCheckView.as_view(), name="session-budget-check"),
    *router.urls,
]
