from django.apps import AppConfig


class SessionsConfig(AppConfig):
    name = "apps.sessions"
    # "sessions" is django.contrib.sessions' label (conventions rule 18).
    label = "agent_sessions"
    verbose_name = "Sessions, messages and events"

    def ready(self) -> None:
        # Session secrets share the provider keys' key ring: `manage.py rotate_encryption_keys` rotates both.
        from apps.llm.services import encrypted_secrets_register

        from .secrets import session_secrets_rotate

        encrypted_secrets_register("session secrets", session_secrets_rotate)
