from django.apps import AppConfig


class SchedulesConfig(AppConfig):
    name = "apps.schedules"
    label = "schedules"
    verbose_name = "Durable schedules"

    def ready(self) -> None:
        from apps.core.periodic import periodic_register

        from .services import schedules_run_due

        # Every worker's loop (apps.runtime, every RUNTIME_RECOVERY_INTERVAL_SECS) fires what is due; the row lock
        # and the unique (schedule, scheduled_at) make each fire happen once however many workers run it.
        periodic_register("schedules.run_due", schedules_run_due)
