from django.apps import AppConfig


class IdempotencyConfig(AppConfig):
    name = "apps.idempotency"
    label = "idempotency"
    verbose_name = "Idempotency keys"

    def ready(self) -> None:
        from apps.core.periodic import periodic_register

        from .services import idempotency_prune

        periodic_register("idempotency.prune", idempotency_prune, every_secs=3600)
