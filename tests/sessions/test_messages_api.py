"""POST/GET /v1/sessions/{id}/messages (contract 2.5, 3.3, 6.1)."""

import pytest

from apps.core.ids import format_id

pytestmark = pytest.mark.django_db

INVALID = {"error": "Invalid request", "status": 400}


def post(api_client, session_url, body):
    return api_client.post(session_url + "/messages", body, format="json")


def text(value: str) -> dict:
    return {"message": {"content": [{"type": "text", "text": value}]}}


def test_post_stores_the_user_message_and_answers_201(
    api_client, session, session_url, django_capture_on_commit_callbacks
):
    body = {
        "message": {"role": "user", "content": [{"type": "text", "text": "What time is it in Kyiv?"}]},
        "controls": {"reasoning": {"effort": "low"}, "max_tokens": 256},
        "metadata": {"source": "cli"},
        "tags": ["t1"],
    }
    with django_capture_on_commit_callbacks() as callbacks:
        response = post(api_client, session_url, body)
    assert response.status_code == 201
    message = response.json()
    assert message["id"].startswith("message_")
    assert message["role"] == "user"
    assert message["session_id"] == format_id("session", session.pk)
    assert message["sequence"] == 2  # after session.started
    assert message["content"] == [{"type": "text", "text": "What time is it in Kyiv?"}]
    assert message["controls"] == {"reasoning": {"effort": "low"}, "max_tokens": 256}
    assert message["metadata"] == {"source": "cli"}
    assert message["tags"] == ["t1"]
    assert message["created_at"].endswith("Z")
    # On commit: the streams are woken and the turn is enqueued.
    assert len(callbacks) == 2

    listed = api_client.get(session_url + "/messages").json()
    assert listed == {"data": [message], "total": 1}
    event = api_client.get(session_url + "/events?types=input.message").json()["data"][0]
    assert event["data"]["message"] == message
    assert event["sequence"] == message["sequence"]


def test_first_message_sets_the_preview(api_client, session_url):
    post(api_client, session_url, text("x" * 500))
    post(api_client, session_url, text("second"))
    assert api_client.get(session_url).json()["preview"] == "x" * 200


def test_commit_enqueues_a_turn(api_client, session, session_url, django_capture_on_commit_callbacks, monkeypatch):
    enqueued = []
    monkeypatch.setattr("apps.sessions.tasks.enqueue_turn", enqueued.append)
    with django_capture_on_commit_callbacks(execute=True):
        post(api_client, session_url, text("hi"))
    assert enqueued == [session.pk]


def test_controls_and_metadata_inside_message_are_accepted_and_top_level_wins(api_client, session_url):
    inner = {
        "message": {"content": [{"type": "text", "text": "hi"}], "controls": {"max_tokens": 5}, "metadata": {"a": 1}}
    }
    assert post(api_client, session_url, inner).json()["controls"] == {"max_tokens": 5}
    both = {**inner, "controls": {"temperature": 0.2}}
    message = post(api_client, session_url, both).json()
    assert message["controls"] == {"temperature": 0.2}
    assert message["metadata"] == {"a": 1}


@pytest.mark.parametrize(
    "part",
    [
        {"type": "image", "url": "https://example.com/cat.png"},
        {"type": "image", "base64": "aGVsbG8=", "media_type": "image/png"},
        {"type": "image_file", "image_id": "img_" + "1" * 32, "filename": "cat.png"},
        {"type": "image_file", "image_id": "img_" + "1" * 32},
    ],
)
def test_image_parts_are_accepted(api_client, session_url, part):
    response = post(api_client, session_url, {"message": {"content": [{"type": "text", "text": "look"}, part]}})
    assert response.status_code == 201
    assert response.json()["content"][1] == part


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"message": {}},
        {"message": {"content": []}},
        {"message": {"content": "hello"}},
        {"message": {"content": [{"type": "tool_call", "id": "c", "name": "x", "arguments": {}}]}},
        {"message": {"content": [{"type": "tool_result", "tool_call_id": "c", "result": 1}]}},
        {"message": {"content": [{"type": "audio", "url": "x"}]}},
        {"message": {"content": [{"text": "no type"}]}},
        {"message": {"content": [{"type": "text"}]}},
        {"message": {"content": [{"type": "image"}]}},
        {"message": {"content": [{"type": "image", "base64": "aGVsbG8="}]}},
        {"message": {"content": [{"type": "image", "base64": "!!!", "media_type": "image/png"}]}},
        {"message": {"content": [{"type": "image_file", "image_id": "nope"}]}},
        {"message": {"role": "agent", "content": [{"type": "text", "text": "hi"}]}},
        {"message": {"role": "tool_result", "content": [{"type": "text", "text": "hi"}]}},
        {"message": {"role": "system", "content": [{"type": "text", "text": "hi"}]}},
        {**text("hi"), "controls": {"reasoning": {"effort": "extreme"}}},
        {**text("hi"), "controls": {"max_tokens": 0}},
        {**text("hi"), "controls": {"model_id": "gpt-4o"}},
        {**text("hi"), "metadata": "not an object"},
        {**text("hi"), "tags": "t"},
    ],
)
def test_invalid_messages_are_400_and_store_nothing(api_client, session_url, body):
    response = post(api_client, session_url, body)
    assert response.status_code == 400
    assert response.json() == INVALID
    assert api_client.get(session_url + "/messages").json()["total"] == 0


def test_controls_model_must_exist_in_the_organization(api_client, session_url, make_model, make_org):
    foreign = make_model(org=make_org("Elsewhere"))
    body = {**text("hi"), "controls": {"model_id": format_id("model", foreign.pk)}}
    assert post(api_client, session_url, body).json() == {"error": "Model not found", "status": 404}
    mine = make_model(model_id="mine")
    body = {**text("hi"), "controls": {"model_id": format_id("model", mine.pk)}}
    assert post(api_client, session_url, body).json()["controls"] == {"model_id": format_id("model", mine.pk)}


def test_message_list_reads_user_agent_and_tool_result_messages_in_order(api_client, session, session_url):
    from apps.sessions.services import event_append

    user = post(api_client, session_url, text("time?")).json()
    event_append(session_id=session.pk, type="turn.started", data={"turn_id": "turn_x"})
    event_append(
        session_id=session.pk,
        type="output.message.completed",
        data={
            "message": {
                "id": "message_" + "a" * 32,
                "role": "agent",
                "created_at": "2026-01-01T00:00:00.000Z",
                "content": [{"type": "tool_call", "id": "call_7", "name": "get_time", "arguments": {}}],
            }
        },
    )
    tool = event_append(
        session_id=session.pk,
        type="tool.completed",
        data={
            "tool_call_id": "call_7",
            "tool_name": "get_time",
            "success": True,
            "status": "success",
            "result": {"time": "11:20"},
        },
    )
    messages = api_client.get(session_url + "/messages").json()
    assert messages["total"] == 3
    assert [m["role"] for m in messages["data"]] == ["user", "agent", "tool_result"]
    assert messages["data"][0] == user
    agent = messages["data"][1]
    assert agent["sequence"] == 4 and agent["session_id"] == format_id("session", session.pk)
    assert agent["content"][0]["name"] == "get_time"
    result = messages["data"][2]
    assert result["id"] == format_id("message", tool.id)
    assert result["content"] == [
        {"type": "tool_result", "tool_call_id": "call_7", "result": {"time": "11:20"}, "error": None}
    ]


def test_message_list_selector_is_what_the_runtime_reads(session):
    from apps.sessions.selectors import message_list
    from apps.sessions.services import message_create

    event = message_create(session=session, content=[{"type": "text", "text": "hello"}], start_turn=False)
    assert message_list(session) == [event.data["message"]]
    assert event.data["message"]["sequence"] == event.sequence


def part(value: str) -> dict:
    return {"type": "text", "text": value}


@pytest.mark.parametrize(
    "content",
    [
        [part("x" * (256 * 1024 + 1))],  # one text part over 256 KiB
        [part("é" * (128 * 1024 + 1))],  # counted in UTF-8 bytes
        [part("x" * 1024)] * 257,  # over the parts bound (and together over the text bound)
        [part("hi")] * 101,  # too many parts
        [{"type": "image", "base64": "QUJD" * (1536 * 1024 + 1), "media_type": "image/png"}],  # > 6 MiB
    ],
    ids=["text", "utf8-text", "many-text-parts", "parts", "image"],
)
def test_oversized_messages_are_400_and_store_nothing(api_client, session, session_url, settings, content):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 16 * 1024 * 1024
    response = post(api_client, session_url, {"message": {"role": "user", "content": content}})
    assert response.status_code == 400
    assert response.json() == {"error": "Input exceeds allowed limits", "status": 400}
    assert api_client.get(session_url + "/messages").json()["total"] == 0
    assert session.turns.count() == 0


def test_a_message_at_the_limits_is_accepted(api_client, session_url):
    content = [part("x" * (256 * 1024 - 100)), *[part("y")] * 98, {"type": "image", "url": "https://x.test/a.png"}]
    response = post(api_client, session_url, {"message": {"role": "user", "content": content}})
    assert response.status_code == 201


def test_message_list_streams_past_one_chunk(api_client, session, session_url):
    from apps.sessions.services import message_create

    for i in range(1203):
        message_create(session=session, content=[part(f"m{i}")], start_turn=False)
    response = api_client.get(session_url + "/messages")
    assert response.status_code == 200 and response.streaming and response["Content-Type"] == "application/json"
    body = response.json()
    assert body["total"] == 1203
    assert [m["content"][0]["text"] for m in body["data"]] == [f"m{i}" for i in range(1203)]
    assert [m["sequence"] for m in body["data"]] == list(range(2, 1205))
