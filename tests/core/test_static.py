"""/static/ is served by the web process (WhiteNoise): Swagger UI works offline and the admin is styled.

In production the files come from STATIC_ROOT (collectstatic); here, as under DEBUG, straight from the apps.
"""

import re

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db  # request_finished closes stale connections, which needs database access


@pytest.fixture
def static_client(settings, tmp_path):
    settings.WHITENOISE_USE_FINDERS = True
    settings.STATIC_ROOT = tmp_path  # empty: everything below comes from the apps' static folders
    return Client()  # its middleware (WhiteNoise's file list included) is built at its first request


def test_swagger_ui_page_and_every_asset_it_loads_are_served(static_client):
    page = static_client.get("/swagger-ui/")
    assert page.status_code == 200
    assets = re.findall(r'(?:href|src)="(/static/[^"]+)"', page.content.decode())
    assert any(asset.endswith("swagger-ui-bundle.js") for asset in assets)
    for asset in assets:
        response = static_client.get(asset)
        assert response.status_code == 200, asset
        response.close()


def test_admin_css_is_served_and_unknown_static_paths_are_json_404(static_client):
    response = static_client.get("/static/admin/css/base.css")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/css")
    response.close()
    missing = static_client.get("/static/nope.css")
    assert missing.status_code == 404 and missing.json() == {"error": "Not found", "status": 404}
