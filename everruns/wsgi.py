import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "everruns.settings")

from apps.core.wsgi import RequestAdapter  # noqa: E402  (needs the settings module set)

application = RequestAdapter(get_wsgi_application())
