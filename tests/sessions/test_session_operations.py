"""Fork, resume, export and secrets of a session (issue 21 item 4), through the HTTP API."""

import hashlib
import json
import logging

import pytest

from apps.capabilities import registry
from apps.capabilities.base import Capability, Tool
from apps.core.ids import format_id, parse_id

pytestmark = pytest.mark.django_db

INVALID = {"error": "Invalid request", "status": 400}
SECRET = "sk-live-very-secret-value-0123456789"


def run(url: str) -> None:
    from apps.runtime.services import turn_run_pending

    turn_run_pending(session_id=parse_id("session", url.rsplit("/", 1)[1]))


def say(client, url: str, text: str, *, run_it: bool = True) -> None:
    message = {"message": {"role": "user", "content": [{"type": "text", "text": text}]}}
    assert client.post(f"{url}/messages", message, format="json").status_code == 201
    if run_it:
        run(url)


def texts(client, url: str) -> list[tuple[str, str]]:
    messages = client.get(f"{url}/messages").json()["data"]
    return [(m["role"], "".join(p.get("text", "") for p in m["content"])) for m in messages]


@pytest.fixture
def new_session(api_client, make_agent):
    def _make(agent=None, **body) -> str:
        agent = agent or make_agent()
        response = api_client.post(
            "/v1/sessions", {"agent_id": format_id("agent", agent.public_id), **body}, format="json"
        )
        assert response.status_code == 201, response.content
        return f"/v1/sessions/{response.json()['id']}"

    return _make


# --------------------------------------------------------------------------- fork
def test_fork_copies_the_log_up_to_the_sequence_and_continues_on_its_own(api_client, new_session):
    url = new_session(title="Original", tags=["a"], locale="en", system_prompt="Be brief.")
    say(api_client, url, "first")
    first_turn_end = api_client.get(f"{url}/events").json()["data"][-1]["sequence"]
    say(api_client, url, "second")
    parent_events = api_client.get(f"{url}/events").json()["data"]

    response = api_client.post(f"{url}/fork", {"sequence": first_turn_end}, format="json")
    assert response.status_code == 201, response.content
    fork = response.json()
    fork_url = f"/v1/sessions/{fork['id']}"
    assert fork["id"] != url.rsplit("/", 1)[1]
    assert fork["forked_from_session_id"] == url.rsplit("/", 1)[1]
    assert fork["forked_from_sequence"] == first_turn_end
    assert (fork["title"], fork["tags"], fork["locale"], fork["system_prompt"]) == (
        "Original (fork)",
        ["a"],
        "en",
        "Be brief.",
    )
    assert fork["status"] == "idle" and fork["usage"] is None
    assert fork["output_preview"] == "You said: first"

    copied = api_client.get(f"{fork_url}/events").json()["data"]
    expected = [e for e in parent_events if e["sequence"] <= first_turn_end]
    assert [(e["sequence"], e["type"], e["data"].get("turn_id")) for e in copied] == [
        (e["sequence"], e["type"], e["data"].get("turn_id")) for e in expected
    ]
    assert {e["session_id"] for e in copied} == {fork["id"]}
    assert not {e["id"] for e in copied} & {e["id"] for e in parent_events}
    assert texts(api_client, fork_url) == [("user", "first"), ("agent", "You said: first")]

    # The fork goes on by itself: its next message is answered there; the parent is untouched.
    say(api_client, fork_url, "branch")
    assert texts(api_client, fork_url)[-2:] == [("user", "branch"), ("agent", "You said: branch")]
    assert api_client.get(f"{url}/events").json()["data"] == parent_events
    assert [m[1] for m in texts(api_client, url)] == ["first", "You said: first", "second", "You said: second"]


def test_fork_defaults_to_the_latest_event_and_takes_overrides(api_client, new_session, make_agent, make_model):
    url = new_session(title="T")
    say(api_client, url, "hello")
    last = api_client.get(url).json()
    other_agent, model = make_agent(name="Other"), make_model()
    body = {
        "title": "Branch",
        "tags": ["x"],
        "agent_id": format_id("agent", other_agent.public_id),
        "model_id": format_id("model", model.pk),
    }
    fork = api_client.post(f"{url}/fork", body, format="json").json()
    events = api_client.get(f"{url}/events").json()["data"]
    assert fork["forked_from_sequence"] == events[-1]["sequence"]
    assert (fork["title"], fork["tags"]) == ("Branch", ["x"])
    assert fork["agent_id"] == body["agent_id"] and fork["model_id"] == body["model_id"]
    assert last["title"] == "T"


def test_fork_refusals(api_client, other_org_client, new_session, make_org, make_agent):
    url = new_session()
    say(api_client, url, "queued only", run_it=False)  # an open (queued) turn
    busy = api_client.post(f"{url}/fork", {}, format="json")
    assert busy.json() == {"error": "Session is mid-turn and cannot be forked", "status": 409}
    run(url)
    for sequence in (0, 10_000, "x"):
        response = api_client.post(f"{url}/fork", {"sequence": sequence}, format="json")
        assert response.status_code == 400, sequence
    foreign_agent = make_agent(org=make_org("Elsewhere"))
    response = api_client.post(f"{url}/fork", {"agent_id": format_id("agent", foreign_agent.public_id)}, format="json")
    assert response.json() == {"error": "Agent not found", "status": 404}
    assert other_org_client.post(f"{url}/fork", {}, format="json").status_code == 404
    assert api_client.get("/v1/sessions").json()["total"] == 1  # nothing was created


# --------------------------------------------------------------------------- resume
def test_resume_reruns_a_failed_turn_which_then_completes(api_client, new_session, make_model):
    broken = make_model(model_id="llmsim-default?fail=permanent")
    url = new_session(model_id=format_id("model", broken.pk))
    say(api_client, url, "try this")
    types = [e["type"] for e in api_client.get(f"{url}/events").json()["data"]]
    assert types[-2:] == ["turn.failed", "session.idled"]

    working = make_model(model_id="llmsim-default")
    api_client.patch(url, {"model_id": format_id("model", working.pk)}, format="json")
    response = api_client.post(f"{url}/resume")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["session_id"] == url.rsplit("/", 1)[1] and body["resumed_budgets"] == 0
    assert body["status"] == "queued"
    run(url)
    events = api_client.get(f"{url}/events").json()["data"]
    rerun = [e for e in events if e["context"].get("turn_id") == body["turn_id"]]
    assert [e["type"] for e in rerun][:2] == ["session.activated", "turn.started"]
    assert rerun[1]["data"]["input_content"] == "try this"
    assert [e["type"] for e in events][-2:] == ["turn.completed", "session.idled"]
    assert texts(api_client, url)[-1] == ("agent", "You said: try this")
    # Only one user message: the turn ran again, nothing was posted twice.
    assert [role for role, _ in texts(api_client, url)].count("user") == 1


def test_resume_reruns_a_cancelled_turn(api_client, new_session):
    url = new_session()
    say(api_client, url, "never mind", run_it=False)
    assert api_client.post(f"{url}/cancel").status_code == 200
    run(url)
    from apps.sessions.models import Turn

    assert list(Turn.objects.values_list("status", flat=True)) == ["cancelled"]
    assert api_client.post(f"{url}/resume").status_code == 200
    run(url)
    assert [e["type"] for e in api_client.get(f"{url}/events").json()["data"]][-2:] == [
        "turn.completed",
        "session.idled",
    ]
    assert sorted(Turn.objects.values_list("status", flat=True)) == ["cancelled", "completed"]


def test_resume_refusals(api_client, other_org_client, new_session):
    url = new_session()
    nothing = {"error": "Cannot resume session: the last turn neither failed nor was cancelled", "status": 422}
    assert api_client.post(f"{url}/resume").json() == nothing  # no turn at all
    say(api_client, url, "ok", run_it=False)
    busy = api_client.post(f"{url}/resume")
    assert busy.json() == {"error": "Cannot resume session: a turn is in progress", "status": 422}
    run(url)
    assert api_client.post(f"{url}/resume").json() == nothing  # it completed
    assert other_org_client.post(f"{url}/resume").status_code == 404


# --------------------------------------------------------------------------- export
def test_export_jsonl_has_one_message_per_line(api_client, new_session):
    url = new_session()
    say(api_client, url, "export me")
    response = api_client.get(f"{url}/export")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/x-ndjson"
    assert response["Content-Disposition"] == f'attachment; filename="{url.rsplit("/", 1)[1]}.jsonl"'
    lines = [json.loads(line) for line in response.content.decode().splitlines()]
    assert lines == api_client.get(f"{url}/messages").json()["data"]
    assert [line["role"] for line in lines] == ["user", "agent"]


def test_export_json_is_the_session_with_messages_and_events(api_client, new_session):
    url = new_session(title="Exported")
    say(api_client, url, "export me")
    response = api_client.get(f"{url}/export", {"format": "json"})
    assert response.status_code == 200 and response["Content-Type"] == "application/json"
    transcript = json.loads(response.content)
    assert transcript["session"] == api_client.get(url).json()
    assert transcript["messages"] == api_client.get(f"{url}/messages").json()["data"]
    assert transcript["events"] == api_client.get(f"{url}/events").json()["data"]
    assert {"input.message", "output.message.delta", "turn.completed"} <= {e["type"] for e in transcript["events"]}


def test_export_refusals(api_client, other_org_client, new_session):
    url = new_session()
    unsupported = api_client.get(f"{url}/export", {"format": "atif"})
    assert unsupported.json() == {"error": "Unsupported export format: atif", "status": 400}
    assert other_org_client.get(f"{url}/export").status_code == 404


# --------------------------------------------------------------------------- secrets
def _secret_digest(arguments, context):
    digest = hashlib.sha256(context.secrets["API_TOKEN"].encode()).hexdigest()
    return {"names": sorted(context.secrets), "sha256": digest}


@pytest.fixture
def secret_tool():
    schema = {"type": "object", "properties": {}}
    capability = Capability(
        id="test_secret_reader",
        name="Secret reader",
        description="test",
        tools=(Tool("read_secret", "digest of a secret", schema, _secret_digest),),
    )
    registry.register(capability)
    yield capability.id
    registry.unregister(capability.id)


def test_secrets_are_write_only_encrypted_and_reach_tools(api_client, new_session, make_agent, secret_tool, caplog):
    caplog.set_level(logging.DEBUG)
    url = new_session(make_agent(capabilities=[secret_tool]))
    stored = api_client.put(f"{url}/storage/secrets", {"secrets": {"API_TOKEN": SECRET, "OTHER": "x"}}, format="json")
    assert (stored.status_code, stored.json()) == (200, {"count": 2})
    overwritten = api_client.put(f"{url}/storage/secrets", {"secrets": {"API_TOKEN": SECRET}}, format="json")
    assert overwritten.json() == {"count": 1}
    listed = api_client.get(f"{url}/storage/secrets").json()
    assert [row["name"] for row in listed["data"]] == ["API_TOKEN", "OTHER"] and listed["total"] == 2
    assert set(listed["data"][0]) == {"name", "created_at", "updated_at"}

    say(api_client, url, "/tool read_secret {}")
    completed = [e for e in api_client.get(f"{url}/events").json()["data"] if e["type"] == "tool.completed"]
    result = json.dumps(completed[0]["data"]["result"])
    assert hashlib.sha256(SECRET.encode()).hexdigest() in result and "API_TOKEN" in result

    from apps.sessions.models import SessionSecret

    row = SessionSecret.objects.get(name="API_TOKEN")
    assert SECRET not in row.value_encrypted and row.key_id
    everything = [
        api_client.get(url).content,
        api_client.get("/v1/sessions").content,
        api_client.get(f"{url}/events").content,
        api_client.get(f"{url}/messages").content,
        api_client.get(f"{url}/export", {"format": "json"}).content,
        api_client.get(f"{url}/storage/secrets").content,
    ]
    assert not any(SECRET.encode() in body for body in everything)
    assert SECRET not in caplog.text


def test_a_copied_ciphertext_does_not_decrypt_elsewhere(api_client, new_session):
    from apps.sessions.models import SessionSecret
    from apps.sessions.secrets import secrets_for_tools

    first, second = new_session(), new_session()
    for url in (first, second):
        api_client.put(f"{url}/storage/secrets", {"secrets": {"TOKEN": SECRET}}, format="json")
    source = SessionSecret.objects.get(session_id=parse_id("session", first.rsplit("/", 1)[1]))
    target_id = parse_id("session", second.rsplit("/", 1)[1])
    SessionSecret.objects.filter(session_id=target_id).update(value_encrypted=source.value_encrypted)
    assert secrets_for_tools(source.session_id) == {"TOKEN": SECRET}
    assert secrets_for_tools(target_id) == {}


@pytest.mark.parametrize(
    "body",
    [
        {"secrets": {"bad name": "x"}},
        {"secrets": {"1ABC": "x"}},
        {"secrets": {"OK": 5}},
        {"secrets": ["OK"]},
        {"not_secrets": {}},
    ],
)
def test_bad_secrets_are_400_and_nothing_is_stored(api_client, new_session, body, caplog):
    url = new_session()
    response = api_client.put(f"{url}/storage/secrets", body, format="json")
    assert (response.status_code, response.json()) == (400, INVALID)
    assert api_client.get(f"{url}/storage/secrets").json()["data"] == []


def test_secret_limits(api_client, new_session, settings):
    url = new_session()
    settings.SESSION_SECRET_MAX_BYTES = 10
    too_big = api_client.put(f"{url}/storage/secrets", {"secrets": {"A": "x" * 11}}, format="json")
    assert too_big.json() == {"error": "Input exceeds allowed limits", "status": 400}
    settings.SESSION_SECRETS_MAX_COUNT = 2
    api_client.put(f"{url}/storage/secrets", {"secrets": {"A": "1", "B": "2"}}, format="json")
    too_many = api_client.put(f"{url}/storage/secrets", {"secrets": {"C": "3"}}, format="json")
    assert too_many.status_code == 400
    assert api_client.put(f"{url}/storage/secrets", {"secrets": {"A": "new"}}, format="json").status_code == 200


def test_without_an_encryption_key_secrets_are_refused(api_client, new_session, settings):
    url = new_session()
    settings.DEBUG = False
    settings.ENCRYPTION_KEYS = ""
    response = api_client.put(f"{url}/storage/secrets", {"secrets": {"A": "1"}}, format="json")
    assert response.json() == {"error": "Encryption not configured. Cannot store secrets.", "status": 400}


def test_secrets_of_another_organization_are_404(api_client, other_org_client, new_session):
    url = new_session()
    assert other_org_client.get(f"{url}/storage/secrets").status_code == 404
    response = other_org_client.put(f"{url}/storage/secrets", {"secrets": {"A": "1"}}, format="json")
    assert response.json() == {"error": "Session not found", "status": 404}


def test_key_rotation_re_encrypts_session_secrets(api_client, new_session, settings):
    import base64
    import io

    from django.core.management import call_command

    from apps.sessions.models import SessionSecret
    from apps.sessions.secrets import secrets_for_tools

    old = "old:" + base64.b64encode(b"o" * 32).decode()
    new = "new:" + base64.b64encode(b"n" * 32).decode()
    settings.ENCRYPTION_KEYS = old
    url = new_session()
    api_client.put(f"{url}/storage/secrets", {"secrets": {"TOKEN": SECRET}}, format="json")
    row = SessionSecret.objects.get()
    assert row.key_id == "old"

    settings.ENCRYPTION_KEYS = f"{new},{old}"
    out = io.StringIO()
    call_command("rotate_encryption_keys", stdout=out)
    assert "re-encrypted 1 key(s) with key id 'new'" in out.getvalue()
    settings.ENCRYPTION_KEYS = new  # the old key is gone: the secret still decrypts
    assert SessionSecret.objects.get().key_id == "new"
    assert secrets_for_tools(row.session_id) == {"TOKEN": SECRET}


# --------------------------------------------------------------------------- layers at turn time
def test_the_session_prompt_is_prepended_to_the_agents(api_client, new_session):
    url = new_session(system_prompt="Session rules first.")
    say(api_client, url, "hi")
    generation = api_client.get(f"{url}/events", {"types": "llm.generation"}).json()["data"][0]
    system = generation["data"]["messages"][0]
    assert system["role"] == "system"
    assert system["content"][0]["text"].endswith("Session rules first.\n\nYou help.")
