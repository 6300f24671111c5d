from django.apps import AppConfig


class SkillsConfig(AppConfig):
    name = "apps.skills"
    label = "skills"
    verbose_name = "Skills"

    def ready(self) -> None:
        # `skill:<id>` capability references resolve through this app (apps.capabilities never imports it).
        from apps.capabilities.registry import register_source

        from .capability import load_capability

        register_source("skill", load_capability)
