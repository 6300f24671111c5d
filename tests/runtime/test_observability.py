"""GET /metrics (Prometheus text, protected by a token or an address allow-list, fed by requests and turns),
and the JSON log lines of a turn."""

import pytest
from prometheus_client.parser import text_string_to_metric_families

from apps.core.ids import format_id
from apps.runtime.models import WorkerProcess

pytestmark = pytest.mark.django_db

TOKEN = "scrape-secret-0123456789"


def _scrape(api_client, **headers) -> dict[tuple[str, tuple], float]:
    response = api_client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}", **headers)
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain")
    samples = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def _value(samples, name, **labels) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


@pytest.fixture
def token(settings):
    settings.METRICS_TOKEN = TOKEN


def test_a_scrape_after_a_turn_shows_requests_turns_model_calls_and_the_queue(
    make_chat, api_client, token, django_capture_on_commit_callbacks
):
    before = _scrape(api_client)
    chat = make_chat()
    chat.post("Hello, metrics!")
    assert _value(_scrape(api_client), "everruns_turns_open", status="queued") == 1  # waiting for a worker
    with django_capture_on_commit_callbacks(execute=True):  # turn metrics count committed transitions only
        chat.run()
    assert chat.refresh()["status"] == "idle"
    after = _scrape(api_client)

    def grew(name, **labels) -> float:
        return _value(after, name, **labels) - _value(before, name, **labels)

    # HTTP: by the resolved route pattern, not the raw path (which holds the session id)
    assert grew("everruns_http_requests_total", method="POST", route="v1/sessions/<pk>/messages", status="201") == 1
    assert not any(chat.id in labels_text for (_, labels) in after for labels_text in map(str, labels))
    assert grew("everruns_http_request_duration_seconds_count", method="POST", route="v1/sessions") == 1
    # turns
    assert grew("everruns_turns_started_total") == 1
    assert grew("everruns_turns_finished_total", status="completed") == 1
    assert grew("everruns_turn_duration_seconds_count", status="completed") == 1
    # the simulated model's call, its latency and tokens
    model = {"provider_type": "llmsim", "model": "llmsim-default"}
    assert grew("everruns_llm_calls_total", outcome="ok", **model) == 1
    assert grew("everruns_llm_call_duration_seconds_count", **model) == 1
    assert grew("everruns_llm_tokens_total", kind="output", **model) > 0
    # the queue is empty again; nothing streams
    assert _value(after, "everruns_turns_open", status="queued") == 0
    assert _value(after, "everruns_sse_streams_open") == 0


def test_unknown_paths_are_one_label(api_client, token):
    api_client.get("/no/such/path/123")
    api_client.get("/another/unknown")
    samples = _scrape(api_client)
    assert _value(samples, "everruns_http_requests_total", method="GET", route="<unmatched>", status="404") >= 2
    assert not any("no/such" in str(labels) for (_, labels) in samples)


def test_live_workers_and_their_heartbeats(api_client, token, settings):
    from datetime import timedelta

    from django.utils import timezone

    from apps.runtime import workers

    settings.RUNTIME_TURN_LEASE_SECS = 30
    beat = timezone.now() - timedelta(seconds=3)
    WorkerProcess.objects.create(key="h:1:a", hostname="h", pid=1, started_at=beat, heartbeat_at=beat)
    before = _scrape(api_client)
    workers._process["key"], saved = "h:1:a", workers._process["key"]
    try:
        workers.worker_process_beat()
    finally:
        workers._process["key"] = saved
    samples = _scrape(api_client)
    assert _value(samples, "everruns_workers_live") == 1
    assert _value(samples, "everruns_worker_last_heartbeat_age_seconds") < 3
    assert _value(samples, "everruns_worker_heartbeats_total") - _value(before, "everruns_worker_heartbeats_total") == 1


def test_access_needs_the_token_or_an_allowed_address(api_client, settings):
    settings.DEBUG = False
    settings.METRICS_TOKEN = ""
    settings.METRICS_ALLOWED_IPS = []
    assert api_client.get("/metrics").json() == {"error": "Not found", "status": 404}  # not configured: hidden

    settings.METRICS_TOKEN = TOKEN
    assert api_client.get("/metrics").status_code == 403
    assert api_client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").json() == {"error": "Forbidden", "status": 403}
    assert api_client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}").status_code == 200

    settings.METRICS_TOKEN = ""
    settings.METRICS_ALLOWED_IPS = ["10.0.0.0/8"]
    assert api_client.get("/metrics", REMOTE_ADDR="10.1.2.3").status_code == 200
    assert api_client.get("/metrics", REMOTE_ADDR="192.168.1.1").status_code == 403
    assert api_client.post("/metrics", REMOTE_ADDR="10.1.2.3").status_code == 405


def test_a_turn_logs_its_turn_and_session(make_chat, json_log, django_capture_on_commit_callbacks):
    chat = make_chat()
    with django_capture_on_commit_callbacks(execute=True):
        chat.say("Hello")  # the turn's end is logged (apps.sessions.turns)
    turn_lines = [line for line in json_log() if "turn_id" in line]
    assert turn_lines, json_log()
    assert {line["session_id"] for line in turn_lines} == {format_id("session", chat.pk)}
    assert all(
        line["turn_id"].startswith("turn_") and line["organization_id"].startswith("org_") for line in turn_lines
    )
