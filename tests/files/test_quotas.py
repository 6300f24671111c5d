"""Per-file and per-session quotas: 400 "Input exceeds allowed limits", and nothing half-written."""

import base64

import pytest

pytestmark = pytest.mark.django_db

TOO_LARGE = {"error": "Input exceeds allowed limits", "status": 400}


@pytest.fixture
def small_quotas(settings):
    settings.FS_MAX_FILE_BYTES = 100
    settings.FS_MAX_SESSION_BYTES = 250
    settings.FS_MAX_FILES = 6
    return settings


def test_file_size_limit_on_create_and_update(api_client, fs, small_quotas):
    assert api_client.post(fs("ok.txt"), {"content": "x" * 100}, format="json").status_code == 201
    response = api_client.post(fs("big.txt"), {"content": "x" * 101}, format="json")
    assert response.json() == TOO_LARGE
    assert api_client.get(fs("big.txt")).status_code == 404
    assert api_client.put(fs("ok.txt"), {"content": "y" * 101}, format="json").json() == TOO_LARGE
    assert api_client.get(fs("ok.txt")).json()["content"] == "x" * 100


def test_file_size_counts_decoded_bytes_not_base64_characters(api_client, fs, small_quotas):
    payload = base64.b64encode(b"\x00" * 100).decode()  # 136 characters, 100 bytes
    assert api_client.post(fs("b.bin"), {"content": payload, "encoding": "base64"}, format="json").status_code == 201


def test_session_bytes_limit(api_client, fs, small_quotas):
    for name in ("a", "b"):
        assert api_client.post(fs(name), {"content": "x" * 100}, format="json").status_code == 201
    assert api_client.post(fs("c"), {"content": "x" * 51}, format="json").json() == TOO_LARGE
    assert api_client.post(fs("c"), {"content": "x" * 50}, format="json").status_code == 201
    # Shrinking a file frees room; growing one counts only the difference.
    assert api_client.put(fs("a"), {"content": "x"}, format="json").status_code == 200
    assert api_client.put(fs("b"), {"content": "x" * 100}, format="json").status_code == 200
    assert api_client.post(fs("d"), {"content": "x" * 99}, format="json").status_code == 201


def test_file_count_limit_includes_auto_created_parents(api_client, fs, small_quotas, session):
    from apps.files.models import SessionFile

    assert api_client.post(fs("a/b/c/d.txt"), {"content": "x"}, format="json").status_code == 201  # 4 entries
    # Needs /e, /e/f and the file: 7 > 6, so nothing at all is created.
    assert api_client.post(fs("e/f/g.txt"), {"content": "x"}, format="json").json() == TOO_LARGE
    assert not SessionFile.objects.filter(session=session, path__startswith="/e").exists()
    assert api_client.post(fs("a/two.txt"), {"content": "x"}, format="json").status_code == 201
    assert api_client.post(fs("a/three.txt"), {}, format="json").status_code == 201
    assert api_client.post(fs("dir"), {"is_directory": True}, format="json").json() == TOO_LARGE


def test_copy_counts_against_the_quotas(api_client, fs, small_quotas):
    api_client.post(fs("src/a"), {"content": "x" * 100}, format="json")
    api_client.post(fs("src/b"), {"content": "x" * 100}, format="json")
    response = api_client.post(fs("_/copy"), {"src_path": "/src", "dst_path": "/dst"}, format="json")
    assert response.json() == TOO_LARGE
    assert api_client.get(fs("dst")).status_code == 404
    assert api_client.post(fs("_/copy"), {"src_path": "/src/a", "dst_path": "/x"}, format="json").json() == TOO_LARGE


def test_move_is_free_but_new_parents_count(api_client, fs, small_quotas):
    for name in ("a", "b", "c", "d", "e"):
        api_client.post(fs(name), {"content": "x"}, format="json")
    assert api_client.post(fs("_/move"), {"src_path": "/a", "dst_path": "/z"}, format="json").status_code == 200
    assert api_client.post(fs("_/move"), {"src_path": "/b", "dst_path": "/p/b"}, format="json").status_code == 200
    response = api_client.post(fs("_/move"), {"src_path": "/c", "dst_path": "/q/c"}, format="json")
    assert response.json() == TOO_LARGE


def test_quotas_are_per_session(api_client, fs, small_quotas, make_session):
    other = make_session()
    for name in ("a", "b"):
        api_client.post(fs(name), {"content": "x" * 100}, format="json")
    assert api_client.post(fs("a", target=other), {"content": "x" * 100}, format="json").status_code == 201


def test_request_body_over_the_server_limit_is_400(api_client, fs, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = api_client.post(fs("huge.txt"), {"content": "x" * 2000}, format="json")
    assert response.json() == TOO_LARGE
