from django.apps import AppConfig


class UsageConfig(AppConfig):
    name = "apps.usage"
    label = "usage"
    verbose_name = "Usage and budgets"

    def ready(self) -> None:
        from apps.sessions.turns import admission_check_register

        from .budgets import budget_admission

        # A message that would start a turn is refused while a budget of its session is exhausted.
        admission_check_register(budget_admission)
