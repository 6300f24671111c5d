"""Django admin: operators see the db_worker processes and which are alive."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from apps.runtime.models import WorkerProcess

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client, django_user_model):
    user = django_user_model.objects.create_superuser(email="root@example.com", password="S3cure-pass!")
    client.force_login(user)
    return client


def _worker(key: str, age_seconds: float) -> WorkerProcess:
    now = timezone.now()
    return WorkerProcess.objects.create(
        key=key,
        hostname="host-a",
        pid=4242,
        task_worker_id=f"tw-{key}",
        started_at=now - timedelta(hours=1),
        heartbeat_at=now - timedelta(seconds=age_seconds),
    )


def test_workers_are_listed_with_their_liveness(staff_client):
    _worker("alive-one", 1)
    _worker("dead-one", 3600)
    page = staff_client.get(reverse("admin:runtime_workerprocess_changelist"))
    assert page.status_code == 200
    html = page.content.decode()
    assert "alive-one" in html and "dead-one" in html
    assert html.count('alt="True"') == 1 and html.count('alt="False"') == 1


def test_workers_cannot_be_added_or_edited_from_the_admin(staff_client):
    row = _worker("w1", 1)
    assert staff_client.get(reverse("admin:runtime_workerprocess_add")).status_code == 403
    response = staff_client.post(reverse("admin:runtime_workerprocess_change", args=[row.pk]), {"pid": 1})
    assert response.status_code == 403
    row.refresh_from_db()
    assert row.pid == 4242
