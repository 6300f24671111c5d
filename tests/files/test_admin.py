"""Django admin: a read-only browser of session files with a content preview."""

import base64

import pytest
from django.urls import reverse

from apps.files.admin import PREVIEW_CHARS
from apps.files.models import SessionFile

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client, django_user_model):
    user = django_user_model.objects.create_superuser(email="root@example.com", password="S3cure-pass!")
    client.force_login(user)
    return client


def change_url(row: SessionFile) -> str:
    return reverse("admin:session_files_sessionfile_change", args=[row.pk])


def test_text_preview_is_shown_escaped(staff_client, api_client, fs, session):
    api_client.post(fs("notes/a.md"), {"content": "<script>alert(1)</script> hello"}, format="json")
    page = staff_client.get(change_url(SessionFile.objects.get(session=session, path="/notes/a.md")))
    assert page.status_code == 200
    html = page.content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt; hello" in html
    assert "<script>alert(1)" not in html
    assert f"session_{session.pk.hex}" in html


def test_long_text_is_truncated(staff_client, api_client, fs, session):
    api_client.post(fs("long.txt"), {"content": "é" * (PREVIEW_CHARS * 3)}, format="json")
    html = staff_client.get(change_url(SessionFile.objects.get(path="/long.txt"))).content.decode()
    assert "é" * PREVIEW_CHARS in html and "é" * (PREVIEW_CHARS + 1) not in html
    assert f"truncated, {PREVIEW_CHARS * 6} bytes in total" in html


def test_binary_shows_only_its_size(staff_client, api_client, fs):
    payload = b"\x00SECRET-BYTES" * 10
    api_client.post(fs("b.bin"), {"content": base64.b64encode(payload).decode(), "encoding": "base64"}, format="json")
    html = staff_client.get(change_url(SessionFile.objects.get(path="/b.bin"))).content.decode()
    assert f"(binary, {len(payload)} bytes)" in html
    assert "SECRET-BYTES" not in html


def test_changelist_filters_by_session_and_admin_cannot_edit(staff_client, api_client, fs, session, make_session):
    api_client.post(fs("mine.txt"), {"content": "x"}, format="json")
    api_client.post(fs("theirs.txt", target=make_session()), {"content": "x"}, format="json")
    url = reverse("admin:session_files_sessionfile_changelist")
    html = staff_client.get(url + f"?session__id__exact={session.pk}").content.decode()
    assert "/mine.txt" in html and "/theirs.txt" not in html
    assert staff_client.get(reverse("admin:session_files_sessionfile_add")).status_code == 403
    row = SessionFile.objects.get(path="/mine.txt")
    staff_client.post(change_url(row), {"path": "/hacked.txt"})
    row.refresh_from_db()
    assert row.path == "/mine.txt"


def test_admin_delete_goes_through_the_service(staff_client, api_client, fs, events):
    api_client.post(fs("d/a.txt"), {"content": "x"}, format="json")
    row = SessionFile.objects.get(path="/d")
    response = staff_client.post(reverse("admin:session_files_sessionfile_delete", args=[row.pk]), {"post": "yes"})
    assert response.status_code == 302
    assert not SessionFile.objects.filter(path__in=["/d", "/d/a.txt"]).exists()
    assert events()[-1] == ("file.deleted", {"path": "/d", "is_directory": True, "deleted_count": 2})
