"""Idempotency-Key on POST/PATCH under /v1 (issue 16 item 1, docs/automation.md)."""

import threading
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from apps.idempotency.models import IdempotencyRecord
from apps.sessions.models import Session
from tests import urls as test_urls

pytestmark = pytest.mark.django_db


@pytest.fixture
def agent_id(agent) -> str:
    from apps.core.ids import format_id

    return format_id("agent", agent.public_id)


def post_session(client, agent_id, key, **extra):
    return client.post("/v1/sessions", {"agent_id": agent_id, **extra}, format="json", HTTP_IDEMPOTENCY_KEY=key)


def test_repeat_with_same_body_replays_the_first_response_and_creates_one_session(api_client, agent_id):
    first = post_session(api_client, agent_id, "retry-1", title="Nightly")
    second = post_session(api_client, agent_id, "retry-1", title="Nightly")
    assert first.status_code == second.status_code == 201
    assert second.json() == first.json()
    assert second["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first
    assert second["Content-Type"] == first["Content-Type"]
    assert second["X-Request-Id"] != first["X-Request-Id"]  # the replay is its own request
    assert Session.objects.count() == 1


def test_different_keys_are_different_requests(api_client, agent_id):
    post_session(api_client, agent_id, "a")
    post_session(api_client, agent_id, "b")
    assert Session.objects.count() == 2


def test_same_key_with_another_body_is_422_and_changes_nothing(api_client, agent_id):
    post_session(api_client, agent_id, "k", title="one")
    response = post_session(api_client, agent_id, "k", title="two")
    assert response.status_code == 422
    assert response.json() == {"error": "Idempotency-Key was already used with a different request", "status": 422}
    assert list(Session.objects.values_list("title", flat=True)) == ["one"]


def test_same_key_on_another_path_is_422(api_client, agent_id, session):
    from apps.core.ids import format_id

    post_session(api_client, agent_id, "k")
    response = api_client.patch(
        f"/v1/sessions/{format_id('session', session.pk)}", {"title": "x"}, format="json", HTTP_IDEMPOTENCY_KEY="k"
    )
    assert response.status_code == 422
    session.refresh_from_db()
    assert session.title != "x"


def test_patch_is_replayed_too(api_client, session):
    from apps.core.ids import format_id

    url = f"/v1/sessions/{format_id('session', session.pk)}"
    first = api_client.patch(url, {"title": "Renamed"}, format="json", HTTP_IDEMPOTENCY_KEY="p1")
    api_client.patch(url, {"title": "Meanwhile"}, format="json")
    again = api_client.patch(url, {"title": "Renamed"}, format="json", HTTP_IDEMPOTENCY_KEY="p1")
    assert again.status_code == 200 and again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    session.refresh_from_db()
    assert session.title == "Meanwhile"  # the replay did not run the update again


def test_a_client_error_is_kept_and_replayed(api_client):
    # (A session without agent_id is valid since sessions may run on a harness alone: a malformed title is not.)
    first = api_client.post("/v1/sessions", {"title": 5}, format="json", HTTP_IDEMPOTENCY_KEY="bad")
    again = api_client.post("/v1/sessions", {"title": 5}, format="json", HTTP_IDEMPOTENCY_KEY="bad")
    assert first.status_code == again.status_code == 400
    assert again.json() == {"error": "Invalid request", "status": 400}
    assert again["Idempotent-Replayed"] == "true"


@pytest.mark.parametrize("key", ["", "has space", "x" * 256, "tab\there"])
def test_malformed_key_is_400(api_client, agent_id, key):
    response = post_session(api_client, agent_id, key)
    assert response.status_code == 400
    assert response.json() == {"error": "Invalid Idempotency-Key header", "status": 400}
    assert Session.objects.count() == 0


def test_keys_belong_to_one_credential(agent_id, make_user, client_for, agent):
    alice = client_for(make_user("alice@example.com"))
    bob = client_for(make_user("bob@example.com"))
    a = post_session(alice, agent_id, "shared-key")
    b = post_session(bob, agent_id, "shared-key")
    assert a.status_code == b.status_code == 201
    assert a.json()["id"] != b.json()["id"]
    assert "Idempotent-Replayed" not in b


def test_keys_belong_to_one_api_key(full_auth, make_user, default_org, agent_id, api_client):
    from apps.accounts.services import api_key_create

    user = make_user("keys@example.com", role="admin")
    raws = [api_key_create(user=user, organization=default_org, name=n)[1] for n in ("one", "two")]
    ids = set()
    for raw in raws:
        api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
        ids.add(post_session(api_client, agent_id, "same").json()["id"])
        assert post_session(api_client, agent_id, "same")["Idempotent-Replayed"] == "true"
    assert len(ids) == 2


def test_unauthenticated_request_with_a_key_is_401_and_stores_nothing(full_auth, api_client, agent_id):
    response = post_session(api_client, agent_id, "anon")
    assert response.status_code == 401
    assert IdempotencyRecord.objects.count() == 0


def test_gets_ignore_the_header(api_client, session):
    response = api_client.get("/v1/sessions", HTTP_IDEMPOTENCY_KEY="g")
    assert response.status_code == 200 and "Idempotent-Replayed" not in response
    assert IdempotencyRecord.objects.count() == 0


def test_a_crashed_first_request_is_taken_over_after_its_lock(api_client, agent_id, settings):
    # The first request's process died after claiming the key (its marker stays in flight)...
    first = post_session(api_client, agent_id, "crash")
    record = IdempotencyRecord.objects.get(key="crash")
    Session.objects.all().delete()
    record.state, record.locked_until = IdempotencyRecord.IN_FLIGHT, timezone.now() - timedelta(seconds=1)
    record.save()
    # ...so once its lock ran out, the retry runs for real and is kept.
    retry = post_session(api_client, agent_id, "crash")
    assert retry.status_code == 201 and "Idempotent-Replayed" not in retry
    assert retry.json()["id"] != first.json()["id"]
    assert Session.objects.count() == 1
    assert post_session(api_client, agent_id, "crash").json()["id"] == retry.json()["id"]


def test_expired_keys_run_again_and_are_pruned(api_client, agent_id):
    post_session(api_client, agent_id, "old")
    IdempotencyRecord.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    call_command("idempotency_prune", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert IdempotencyRecord.objects.count() == 0
    again = post_session(api_client, agent_id, "old")
    assert again.status_code == 201 and "Idempotent-Replayed" not in again
    assert Session.objects.count() == 2


def test_expired_key_is_reclaimed_even_before_pruning(api_client, agent_id):
    post_session(api_client, agent_id, "old")
    IdempotencyRecord.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert "Idempotent-Replayed" not in post_session(api_client, agent_id, "old")
    assert Session.objects.count() == 2


@pytest.mark.urls("tests.urls")
def test_a_server_error_releases_the_key():
    client = Client(raise_request_exception=False)
    response = client.post("/v1/_test/boom", {}, content_type="application/json", HTTP_IDEMPOTENCY_KEY="5xx")
    assert response.status_code == 500
    assert IdempotencyRecord.objects.count() == 0  # the retry will run for real


@pytest.mark.urls("tests.urls")
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_repeat_while_the_first_is_in_flight_is_409(default_org):
    test_urls.GATE_ENTERED.clear()
    test_urls.GATE_OPEN.clear()
    results: dict = {}

    def first_request():
        results["first"] = Client().post(
            "/v1/_test/gate", {"n": 1}, content_type="application/json", HTTP_IDEMPOTENCY_KEY="slow"
        )

    thread = threading.Thread(target=first_request)
    thread.start()
    try:
        assert test_urls.GATE_ENTERED.wait(timeout=30)
        repeat = Client().post("/v1/_test/gate", {"n": 1}, content_type="application/json", HTTP_IDEMPOTENCY_KEY="slow")
        assert repeat.status_code == 409
        assert repeat.json() == {
            "error": "A request with this Idempotency-Key is still being processed",
            "status": 409,
        }
    finally:
        test_urls.GATE_OPEN.set()
        thread.join(timeout=30)
    assert results["first"].status_code == 201
    replay = Client().post("/v1/_test/gate", {"n": 1}, content_type="application/json", HTTP_IDEMPOTENCY_KEY="slow")
    assert replay.status_code == 201 and replay["Idempotent-Replayed"] == "true"
    assert replay.json() == {"passed": 1}


def test_openapi_documents_the_header_and_its_answers():
    from apps.core.openapi import build_schema

    schema = build_schema()
    operation = schema["paths"]["/v1/sessions"]["post"]
    assert any(p["name"] == "Idempotency-Key" and p["in"] == "header" for p in operation["parameters"])
    assert {"409", "422"} <= set(operation["responses"])
    assert "Idempotency-Key" not in str(schema["paths"]["/v1/sessions"]["get"])
