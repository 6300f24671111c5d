"""Webhooks through the HTTP API: signed deliveries to a real local receiver, retries, auto-disable, redelivery,
secrets shown once and rotated, the address policy (issue 16 item 2, docs/automation.md)."""

import json
from datetime import timedelta

import pytest
from django.utils import timezone
from standardwebhooks import Webhook as Verifier
from standardwebhooks.webhooks import WebhookVerificationError

from apps.core.ids import parse_id
from apps.sessions.tasks import run_turn
from apps.webhooks.models import Webhook, WebhookDelivery
from apps.webhooks.services import deliveries_run_due
from apps.webhooks.tasks import deliver_webhook

pytestmark = pytest.mark.django_db


def create_webhook(client, url, **body):
    response = client.post("/v1/task-webhooks", {"url": url, **body}, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def run_a_turn(client, text="hello") -> str:
    """Agent + session + message through the API, then the worker's turn task: returns the session id."""
    agent = client.post("/v1/agents", {"name": "Hooked", "system_prompt": "You help."}, format="json").json()
    session = client.post("/v1/sessions", {"agent_id": agent["id"]}, format="json").json()
    message = {"message": {"role": "user", "content": [{"type": "text", "text": text}]}}
    assert client.post(f"/v1/sessions/{session['id']}/messages", message, format="json").status_code == 201
    run_turn.call(str(parse_id("session", session["id"])))
    return session["id"]


def deliveries(client, webhook_id, **params) -> list[dict]:
    response = client.get(f"/v1/task-webhooks/{webhook_id}/deliveries", params)
    assert response.status_code == 200, response.content
    return response.json()["data"]


def verify(secret, request) -> dict:
    return Verifier(secret).verify(request.body, request.headers)


def test_a_completed_turn_is_delivered_signed_to_the_receiver(api_client, receiver):
    hook = create_webhook(api_client, receiver.url, event_types=["turn.completed", "session.idled"])
    assert hook["secret"].startswith("whsec_") and hook["has_secret"] is True
    session_id = run_a_turn(api_client)
    assert deliveries_run_due() == 2

    assert len(receiver.requests) == 2
    bodies = [verify(hook["secret"], request) for request in receiver.requests]
    assert sorted(body["type"] for body in bodies) == ["session.idled", "turn.completed"]
    completed = next(body for body in bodies if body["type"] == "turn.completed")
    assert completed["data"]["session_id"] == session_id
    assert completed["data"]["event"]["type"] == "turn.completed"
    assert completed["data"]["event"]["session_id"] == session_id
    request = receiver.requests[0]
    assert request.headers["webhook-id"].startswith("msg_")
    assert request.headers["content-type"] == "application/json"

    log = deliveries(api_client, hook["id"])
    assert {entry["status"] for entry in log} == {"succeeded"}
    assert {entry["id"] for entry in log} == {r.headers["webhook-id"] for r in receiver.requests}
    entry = log[0]
    assert entry["last_status_code"] == 200 and entry["attempt_count"] == 1
    assert entry["last_latency_ms"] >= 0 and entry["next_attempt_at"] is None
    assert entry["attempts"][0]["status_code"] == 200


def test_a_tampered_body_fails_verification(api_client, receiver):
    hook = create_webhook(api_client, receiver.url, event_types=["turn.completed"])
    run_a_turn(api_client)
    deliveries_run_due()
    request = receiver.requests[0]
    with pytest.raises(WebhookVerificationError):
        Verifier(hook["secret"]).verify(request.body.replace(b"turn.completed", b"turn.failed"), request.headers)


def test_a_500_is_retried_with_back_off_by_the_worker_task(api_client, receiver, settings):
    settings.WEBHOOK_RETRY_DELAYS_SECS = [5, 300]
    receiver.statuses = [500]
    hook = create_webhook(api_client, receiver.url, event_types=["turn.completed"])
    run_a_turn(api_client)
    delivery = WebhookDelivery.objects.get()

    before = timezone.now()
    deliver_webhook.call(str(delivery.pk))  # the worker's task: one attempt, then the retry queued with run_after
    [entry] = deliveries(api_client, hook["id"])
    assert entry["status"] == "pending" and entry["last_status_code"] == 500 and entry["attempt_count"] == 1
    next_at = WebhookDelivery.objects.get().next_attempt_at
    assert before + timedelta(seconds=5) <= next_at <= timezone.now() + timedelta(seconds=5)
    from django_tasks_db.models import DBTaskResult

    queued = DBTaskResult.objects.filter(task_path="apps.webhooks.tasks.deliver_webhook").get()
    assert queued.run_after == next_at and queued.args_kwargs["args"] == [str(delivery.pk)]

    assert deliveries_run_due(now=next_at - timedelta(seconds=1)) == 0  # not due yet: nothing sent
    assert len(receiver.requests) == 1
    assert deliveries_run_due(now=next_at) == 1
    [entry] = deliveries(api_client, hook["id"])
    assert entry["status"] == "succeeded" and entry["attempt_count"] == 2
    assert [a["status_code"] for a in entry["attempts"]] == [500, 200]
    # The retry is the same message: same webhook-id, both signed.
    assert receiver.requests[0].headers["webhook-id"] == receiver.requests[1].headers["webhook-id"]
    verify(hook["secret"], receiver.requests[1])


def test_retries_end_after_the_schedule(api_client, receiver, settings):
    settings.WEBHOOK_RETRY_DELAYS_SECS = [5]
    receiver.statuses = [500, 503]
    hook = create_webhook(api_client, receiver.url, event_types=["turn.completed"])
    run_a_turn(api_client)
    now = timezone.now()
    deliveries_run_due(now=now)
    deliveries_run_due(now=now + timedelta(seconds=5))
    [entry] = deliveries(api_client, hook["id"])
    assert entry["status"] == "failed" and entry["next_attempt_at"] is None
    assert entry["last_status_code"] == 503 and entry["last_error"] == "HTTP 503"
    assert deliveries_run_due(now=now + timedelta(days=2)) == 0


def test_repeated_failures_disable_the_webhook(api_client, receiver, settings):
    settings.WEBHOOK_DISABLE_AFTER_FAILURES = 2
    settings.WEBHOOK_RETRY_DELAYS_SECS = [5, 5, 5]
    receiver.statuses = [500] * 10
    hook = create_webhook(api_client, receiver.url, event_types=["turn.completed"])
    run_a_turn(api_client)
    now = timezone.now()
    deliveries_run_due(now=now)
    deliveries_run_due(now=now + timedelta(seconds=5))

    shown = api_client.get(f"/v1/task-webhooks/{hook['id']}").json()
    assert shown["enabled"] is False
    assert shown["disabled_reason"] == "disabled after 2 failed deliveries in a row"
    assert deliveries(api_client, hook["id"])[0]["status"] == "failed"
    # A disabled webhook gets no new deliveries, and cannot be redelivered to until enabled again.
    run_a_turn(api_client)
    assert WebhookDelivery.objects.count() == 1
    msg = deliveries(api_client, hook["id"])[0]["id"]
    refused = api_client.post(f"/v1/task-webhooks/{hook['id']}/deliveries/{msg}/redeliver")
    assert refused.status_code == 422
    assert refused.json() == {"error": "Webhook is disabled; enable it before redelivering", "status": 422}
    enabled = api_client.patch(f"/v1/task-webhooks/{hook['id']}", {"enabled": True}, format="json").json()
    assert enabled["enabled"] is True and enabled["consecutive_failures"] == 0 and enabled["disabled_reason"] is None


def test_manual_redelivery_sends_the_same_message_again(api_client, receiver):
    hook = create_webhook(api_client, receiver.url, event_types=["turn.completed"])
    run_a_turn(api_client)
    deliveries_run_due()
    [entry] = deliveries(api_client, hook["id"])
    response = api_client.post(f"/v1/task-webhooks/{hook['id']}/deliveries/{entry['id']}/redeliver")
    assert response.status_code == 202
    assert response.json()["status"] == "pending"
    assert deliveries_run_due() == 1
    assert [r.headers["webhook-id"] for r in receiver.requests] == [entry["id"], entry["id"]]
    assert deliveries(api_client, hook["id"])[0]["status"] == "succeeded"


def test_unknown_delivery_is_404(api_client, receiver):
    hook = create_webhook(api_client, receiver.url)
    response = api_client.post(f"/v1/task-webhooks/{hook['id']}/deliveries/msg_{'0' * 32}/redeliver")
    assert response.json() == {"error": "Delivery not found", "status": 404}


def test_the_secret_is_shown_once_and_encrypted_at_rest(api_client, receiver):
    hook = create_webhook(api_client, receiver.url)
    assert "secret" not in api_client.get(f"/v1/task-webhooks/{hook['id']}").json()
    assert all("secret" not in row for row in api_client.get("/v1/task-webhooks").json()["data"])
    row = Webhook.objects.get()
    assert hook["secret"] not in json.dumps([row.secret_ciphertext, row.url, row.event_types])
    assert hook["secret"][6:] not in row.secret_ciphertext


def test_a_rotated_secret_signs_alongside_the_old_one_for_the_grace_period(api_client, receiver):
    hook = create_webhook(api_client, receiver.url, event_types=["turn.completed"])
    rotated = api_client.post(f"/v1/task-webhooks/{hook['id']}/rotate-secret")
    assert rotated.status_code == 200
    new_secret = rotated.json()["secret"]
    assert new_secret != hook["secret"] and new_secret.startswith("whsec_")
    run_a_turn(api_client)
    deliveries_run_due()
    request = receiver.requests[0]
    assert len(request.headers["webhook-signature"].split(" ")) == 2
    verify(new_secret, request)
    verify(hook["secret"], request)  # receivers still on the old secret keep working for the grace period


def test_a_client_chosen_secret_signs(api_client, receiver):
    import base64

    secret = "whsec_" + base64.b64encode(b"k" * 32).decode()
    hook = create_webhook(api_client, receiver.url, secret=secret, event_types=["turn.completed"])
    assert hook["secret"] == secret
    run_a_turn(api_client)
    deliveries_run_due()
    verify(secret, receiver.requests[0])


def test_a_session_webhook_hears_only_its_session(api_client, receiver):
    first = run_a_turn(api_client)
    hook = create_webhook(api_client, receiver.url, session_id=first, event_types=["turn.completed"])
    assert hook["session_id"] == first
    run_a_turn(api_client)  # another session: not delivered
    message = {"message": {"role": "user", "content": [{"type": "text", "text": "again"}]}}
    api_client.post(f"/v1/sessions/{first}/messages", message, format="json")
    run_turn.call(str(parse_id("session", first)))
    assert deliveries_run_due() == 1
    assert json.loads(receiver.requests[0].body)["data"]["session_id"] == first


def test_event_types_filter_what_is_delivered(api_client, receiver):
    create_webhook(api_client, receiver.url, event_types=["turn.failed"])
    run_a_turn(api_client)
    assert WebhookDelivery.objects.count() == 0


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:8200/x", "http://169.254.169.254/latest/meta-data", "http://[::1]/", "http://10.0.0.5/"]
)
def test_private_destinations_are_refused(api_client, url):
    response = api_client.post("/v1/task-webhooks", {"url": url}, format="json")
    assert response.status_code == 422
    assert response.json() == {"error": "Webhook url points to a private or local network address", "status": 422}
    assert Webhook.objects.count() == 0


@pytest.mark.parametrize("url", ["ftp://example.com/x", "not a url", "http://user:pw@example.com/"])
def test_malformed_destinations_are_400(api_client, url):
    response = api_client.post("/v1/task-webhooks", {"url": url}, format="json")
    assert response.status_code == 400
    assert response.json()["status"] == 400


def test_bad_input_is_400(api_client, receiver):
    for body in (
        {"url": receiver.url, "event_types": ["output.message.delta"]},
        {"url": receiver.url, "secret": "plain-text"},
        {"url": receiver.url, "enabled": "yes"},
        {"url": receiver.url, "session_id": "nope"},
    ):
        response = api_client.post("/v1/task-webhooks", body, format="json")
        assert response.status_code == 400, body
    assert Webhook.objects.count() == 0


def test_a_foreign_session_is_404(api_client, receiver, make_org, make_agent):
    from apps.core.ids import format_id
    from apps.sessions.services import session_create

    foreign = make_agent(org=make_org("Elsewhere"))
    session = session_create(organization=foreign.organization, agent=foreign)
    body = {"url": receiver.url, "session_id": format_id("session", session.pk)}
    assert api_client.post("/v1/task-webhooks", body, format="json").json() == {
        "error": "Session not found",
        "status": 404,
    }


def test_members_cannot_manage_webhooks(member_client):
    assert member_client.get("/v1/task-webhooks").status_code == 403
    assert member_client.post("/v1/task-webhooks", {"url": "https://example.com"}, format="json").status_code == 403


def test_other_organizations_do_not_see_webhooks(api_client, other_org_client, receiver):
    hook = create_webhook(api_client, receiver.url)
    assert other_org_client.get(f"/v1/task-webhooks/{hook['id']}").json() == {
        "error": "Webhook not found",
        "status": 404,
    }
    assert other_org_client.get("/v1/task-webhooks").json()["data"] == []


def test_update_and_delete(api_client, receiver):
    hook = create_webhook(api_client, receiver.url)
    assert hook["event_types"] == ["turn.completed", "turn.failed", "turn.cancelled", "session.idled", "turn.paused"]
    changed = api_client.patch(
        f"/v1/task-webhooks/{hook['id']}", {"event_types": ["turn.failed"], "enabled": False}, format="json"
    ).json()
    assert changed["event_types"] == ["turn.failed"] and changed["enabled"] is False
    assert api_client.delete(f"/v1/task-webhooks/{hook['id']}").status_code == 204
    assert api_client.get(f"/v1/task-webhooks/{hook['id']}").status_code == 404


def test_the_worker_loop_requeues_deliveries_whose_task_was_lost(api_client, receiver):
    from django_tasks_db.models import DBTaskResult

    from apps.core.periodic import periodic_run_due
    from apps.webhooks.services import deliveries_requeue_overdue

    create_webhook(api_client, receiver.url, event_types=["turn.completed"])
    run_a_turn(api_client)  # (its on-commit enqueue never ran here: the test transaction never commits)
    delivery = WebhookDelivery.objects.get()
    assert deliveries_requeue_overdue(now=delivery.next_attempt_at) == 0  # due, not overdue
    assert deliveries_requeue_overdue(now=delivery.next_attempt_at + timedelta(minutes=10)) == 1
    queued = DBTaskResult.objects.get(task_path="apps.webhooks.tasks.deliver_webhook")
    assert queued.args_kwargs["args"] == [str(delivery.pk)]
    assert "webhooks.requeue_overdue" in periodic_run_due()


def test_rotate_encryption_keys_re_encrypts_webhook_secrets(api_client, receiver, settings):
    import io

    from django.core.management import call_command

    from tests.llm.helpers import b64key

    old, new = f"old:{b64key(b'o')}", f"new:{b64key(b'n')}"
    settings.ENCRYPTION_KEYS = old
    hook = create_webhook(api_client, receiver.url, event_types=["turn.completed"])
    api_client.post(f"/v1/task-webhooks/{hook['id']}/rotate-secret")  # a previous secret in its grace period too
    settings.ENCRYPTION_KEYS = f"{new},{old}"
    out = io.StringIO()
    call_command("rotate_encryption_keys", stdout=out)
    assert "re-encrypted 1 key(s) with key id 'new'" in out.getvalue()
    row = Webhook.objects.get()
    assert row.secret_key_id == row.previous_secret_key_id == "new"
    settings.ENCRYPTION_KEYS = new  # the old key can go: deliveries still sign with both secrets
    run_a_turn(api_client)
    deliveries_run_due()
    verify(hook["secret"], receiver.requests[0])


def test_the_address_policy_is_checked_again_when_delivering(api_client, receiver, settings):
    # Created while private destinations were allowed (or its DNS answer changed since): the connection itself
    # is refused once the policy applies, and the attempt is logged as a failure to retry.
    hook = create_webhook(api_client, receiver.url, event_types=["turn.completed"])
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = False
    run_a_turn(api_client)
    assert deliveries_run_due() == 1
    assert receiver.requests == []
    [entry] = deliveries(api_client, hook["id"])
    assert entry["status"] == "pending" and entry["last_status_code"] is None
    assert "non-public address" in entry["last_error"]
