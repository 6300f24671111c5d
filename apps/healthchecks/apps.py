from django.apps import AppConfig


class HealthChecksConfig(AppConfig):
    name = "apps.healthchecks"
    label = "healthchecks"
    verbose_name = "Agent health checks"
