import importlib
from typing import Any

from django.apps import apps
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = (
        "Idempotently seed what a fresh install needs: each app under apps/ may define "
        "`seeds.run(stdout)`; they run in INSTALLED_APPS order."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        for config in apps.get_app_configs():
            if not config.name.startswith("apps."):
                continue
            try:
                module = importlib.import_module(f"{config.name}.seeds")
            except ModuleNotFoundError as exc:
                if exc.name != f"{config.name}.seeds":
                    raise
                continue
            module.run(self.stdout)
