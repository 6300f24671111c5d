from django.apps import AppConfig


class LlmConfig(AppConfig):
    name = "apps.llm"
    label = "llm"
    verbose_name = "LLM providers and models"

    def ready(self) -> None:
        from . import checks  # noqa: F401  (registers the system checks)
