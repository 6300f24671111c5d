"""The /v1 URLconf is one flat list of the apps' routes (everruns/urls.py): nothing lost, nothing shadowed."""

from collections import Counter
from importlib import import_module

from django.urls import resolve

from everruns.urls import V1_APPS, v1


def test_every_app_route_is_served_once_and_names_are_unique():
    expected = [pattern for app in V1_APPS for pattern in import_module(f"apps.{app}.urls").urlpatterns]
    assert v1 == expected
    names = Counter(pattern.name for pattern in v1)
    assert [name for name, count in names.items() if count > 1] == []


def test_routes_resolve_to_their_own_views():
    assert resolve("/v1/sessions").url_name == "session-list"
    assert resolve("/v1/sessions/session_0123/messages").url_name == "session-messages"
    assert resolve("/v1/sessions/session_0123/sse").url_name == "session-sse"
    assert resolve("/v1/agents").url_name == "agent-list"
    assert resolve("/v1/auth/me").url_name is not None
