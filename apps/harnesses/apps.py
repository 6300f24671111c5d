from django.apps import AppConfig


class HarnessesConfig(AppConfig):
    name = "apps.harnesses"
    label = "harnesses"
    verbose_name = "Harnesses"

    def ready(self) -> None:
        from django.db.models.signals import post_save

        from apps.accounts.models import Organization

        from .services import organization_created

        # Every organization gets its built-in `generic` harness, however it was created (sign-up, admin,
        # management commands, tests): the one hook all of them pass through.
        post_save.connect(organization_created, sender=Organization, dispatch_uid="harnesses.generic_harness")
