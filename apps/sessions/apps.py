from django.apps import AppConfig


class SessionsConfig(AppConfig):
    name = "apps.sessions"
    # "sessions" is django.contrib.sessions' label (conventions rule 18).
    label = "agent_sessions"
    verbose_name = "Sessions, messages and events"
