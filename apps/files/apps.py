from django.apps import AppConfig


class FilesConfig(AppConfig):
    name = "apps.files"
    label = "session_files"
    verbose_name = "Session filesystem"
