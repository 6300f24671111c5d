"""A posted message produces an agent answer: the simulated provider, inline turns, event order (6.2)."""

import json

from apps.sessions.models import Turn

TURN_EVENTS = ["session.activated", "turn.started", "reason.started", "output.message.started"]


def test_message_gets_streamed_answer_with_contract_event_order(make_chat):
    chat = make_chat()
    chat.post("Hello there, agent")
    assert chat.refresh()["status"] == "started"
    chat.run()
    session = chat.refresh()
    assert session["status"] == "idle"
    assert session["started_at"] is not None
    types = chat.types()
    assert types[:6] == ["session.started", "input.message", *TURN_EVENTS]
    assert types[-2:] == ["turn.completed", "session.idled"]
    middle = types[6:-2]
    assert set(middle[:-3]) == {"output.message.delta"} and len(middle) > 4
    assert sorted(middle[-3:]) == ["llm.generation", "output.message.completed", "reason.completed"]
    deltas = [e["data"] for e in chat.events(types="output.message.delta")]
    assert "".join(d["delta"] for d in deltas) == "You said: Hello there, agent"
    assert deltas[-1]["accumulated"] == "You said: Hello there, agent"
    assert chat.last_agent_text() == "You said: Hello there, agent"
    assert [m["role"] for m in chat.messages()] == ["user", "agent"]
    assert session["output_preview"] == "You said: Hello there, agent"
    assert session["usage"]["output_tokens"] == 5  # words of the reply


def test_turn_events_carry_context_and_payloads(make_chat):
    chat = make_chat()
    user = chat.post("ping")
    chat.run()
    events = {e["type"]: e for e in chat.events()}
    turn_id = events["turn.started"]["data"]["turn_id"]
    assert turn_id.startswith("turn_")
    assert events["turn.started"]["data"]["input_message_id"] == user["id"]
    assert events["turn.started"]["data"]["input_content"] == "ping"
    for type_ in ("reason.started", "llm.generation", "output.message.completed", "turn.completed"):
        assert events[type_]["context"]["turn_id"] == turn_id
        assert events[type_]["context"]["input_message_id"] == user["id"]
    assert events["llm.generation"]["context"]["parent_span_id"] == events["reason.started"]["context"]["span_id"]
    generation = events["llm.generation"]["data"]
    assert generation["messages"][0]["role"] == "system"
    assert generation["messages"][0]["content"][0]["text"] == "You are a helpful test agent."
    assert generation["messages"][1]["id"] == user["id"]
    assert generation["metadata"]["success"] is True
    assert generation["metadata"]["model"] == "llmsim-default"
    assert generation["output"] == {"text": "You said: ping", "tool_calls": []}
    completed = events["turn.completed"]["data"]
    assert completed["iterations"] == 1 and completed["usage"]["output_tokens"] == 3
    assert events["session.idled"]["data"]["turn_id"] == turn_id
    assert events["reason.completed"]["data"]["success"] is True
    turn = Turn.objects.get()
    assert turn.status == "completed" and turn.iterations == 1 and turn.output_tokens == 3


def test_tool_directive_round_trip(make_chat):
    chat = make_chat(capabilities=["test_math"])
    chat.say('Please add.\n/tool add {"a": 2, "b": 3}\n/tool multiply {"a": 4, "b": 5}')
    types = chat.types()
    act = types[types.index("act.started") : types.index("act.completed") + 1]
    assert act[0] == "act.started" and act[-1] == "act.completed"
    assert act.count("tool.started") == 2 and act.count("tool.completed") == 2
    completed = [e["data"] for e in chat.events(types="tool.completed")]
    assert {c["tool_name"]: json.loads(c["result"][0]["text"]) for c in completed} == {
        "add": {"result": 5},
        "multiply": {"result": 20},
    }
    assert all(c["status"] == "success" and c["success"] for c in completed)
    roles = [m["role"] for m in chat.messages()]
    assert roles == ["user", "agent", "tool_result", "tool_result", "agent"]
    calls = [p for p in chat.messages()[1]["content"] if p["type"] == "tool_call"]
    assert [(c["name"], c["arguments"]) for c in calls] == [("add", {"a": 2, "b": 3}), ("multiply", {"a": 4, "b": 5})]
    answer = chat.last_agent_text()
    assert 'add: {"result":5}' in answer and 'multiply: {"result":20}' in answer
    turn = chat.events(types="turn.completed")[0]["data"]
    assert turn["iterations"] == 2


def test_tool_errors_are_reported_to_the_model_not_fatal(make_chat):
    chat = make_chat(capabilities=["test_math"])
    chat.say('/tool divide {"a": 1, "b": 0}\n/tool no_such_tool {}')
    completed = {e["data"]["tool_name"]: e["data"] for e in chat.events(types="tool.completed")}
    assert completed["divide"]["status"] == "error" and completed["divide"]["error"] == "Division by zero"
    assert completed["no_such_tool"]["error"] == "Unknown tool: no_such_tool"
    assert "divide: Division by zero" in chat.last_agent_text()
    assert chat.types()[-2:] == ["turn.completed", "session.idled"]
    act = chat.events(types="act.completed")[0]["data"]
    assert (act["completed"], act["success_count"], act["error_count"]) == (2, 0, 2)


def test_second_message_starts_a_second_turn_with_history(make_chat):
    chat = make_chat()
    chat.say("first")
    chat.say("second")
    assert [m["role"] for m in chat.messages()] == ["user", "agent", "user", "agent"]
    assert chat.last_agent_text() == "You said: second"
    generations = chat.events(types="llm.generation")
    # Each llm.generation stores the system prompt and the messages added since the previous generation
    # (the whole history was sent to the model; earlier generations hold the rest).
    first, second = (g["data"] for g in generations)
    assert [(m["role"], m["content"][0]["text"]) for m in first["messages"]] == [
        ("system", "You are a helpful test agent."),
        ("user", "first"),
    ]
    assert [(m["role"], m["content"][0]["text"]) for m in second["messages"]] == [
        ("system", "You are a helpful test agent."),
        ("agent", "You said: first"),
        ("user", "second"),
    ]
    assert second["messages_after_sequence"] == first["messages"][1]["sequence"]
    assert Turn.objects.filter(status="completed").count() == 2
    assert chat.refresh()["usage"]["output_tokens"] == 3 + 3


def test_nothing_pending_runs_nothing(make_chat):
    chat = make_chat()
    chat.run()
    assert chat.types() == ["session.started"]
    assert not Turn.objects.exists()


def test_llm_generation_does_not_copy_the_history_or_image_data(make_chat):
    chat = make_chat(capabilities=["current_time"])
    image = {"type": "image", "base64": "iVBORw0KGgoA" * 100, "media_type": "image/png"}
    response = chat.client.post(
        f"/v1/sessions/{chat.id}/messages",
        {
            "message": {
                "role": "user",
                "content": [{"type": "text", "text": "What time is it?\n/tool get_current_time {}"}, image],
            }
        },
        format="json",
    )
    assert response.status_code == 201
    chat.run()
    first, second = (g["data"] for g in chat.events(types="llm.generation"))
    assert [m["role"] for m in first["messages"]] == ["system", "user"]
    stored_image = first["messages"][1]["content"][1]
    assert "base64" not in stored_image and stored_image["base64_omitted_chars"] == len(image["base64"])
    # The second step's generation holds only what the first one added: the tool call and its result.
    assert [m["role"] for m in second["messages"]] == ["system", "agent", "tool_result"]
    # The turn itself went on normally.
    assert chat.last_agent_text().startswith("Tool results:")
