"""The usage ledger through the HTTP API: every model call priced exactly, summed, grouped and exported."""

import csv
import io
from decimal import Decimal

import pytest

from apps.core.ids import format_id
from tests.fakes import Reply, ToolCall

pytestmark = pytest.mark.django_db


def priced_model(make_model, openai_server, api_client, **prices):
    model = make_model("openai", base_url=openai_server.base_url, model_id="priced-model")
    body = {"input_price_per_mtok": "3.00", "output_price_per_mtok": "15.00", "cached_input_price_per_mtok": "0.30"}
    response = api_client.patch(f"/v1/llm-models/{format_id('model', model.pk)}", body | prices, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["output_price_per_mtok"] == "15.000000"
    return model


def test_a_turn_is_priced_exactly_and_attributed(openai_server, make_model, make_chat, api_client):
    model = priced_model(make_model, openai_server, api_client)
    openai_server.queue(
        Reply(
            text="Let me compute.",
            tool_calls=[ToolCall("add", {"a": 1, "b": 2}, id="call_1")],
            usage={"input_tokens": 1234, "output_tokens": 56, "cache_read_tokens": 1000},
        ),
        Reply(text="3.", usage={"input_tokens": 7, "output_tokens": 1}),
    )
    chat = make_chat(capabilities=["test_math"], model=model)
    chat.say("1 + 2?")

    report = api_client.get("/v1/usage", {"group_by": "session"}).json()
    # 1234 x 3 + 56 x 15 + 1000 x 0.30 = 4842 micro-dollars; then 7 x 3 + 1 x 15 = 36.
    assert Decimal(report["totals"]["cost_usd"]) == Decimal("0.004878")
    assert report["totals"] | {"cost_usd": None} == {
        "input_tokens": 1241,
        "output_tokens": 57,
        "cache_read_tokens": 1000,
        "cache_creation_tokens": 0,
        "total_tokens": 2298,
        "cost_usd": None,
        "calls": 2,
    }
    [group] = report["data"]
    assert group["session_id"] == chat.id and Decimal(group["cost_usd"]) == Decimal("0.004878")

    by_model = api_client.get("/v1/usage", {"group_by": "model"}).json()["data"]
    assert [(g["model_id"], g["model_name"], g["provider_type"], g["calls"]) for g in by_model] == [
        (format_id("model", model.pk), "priced-model", "openai", 2)
    ]
    by_agent = api_client.get("/v1/usage", {"group_by": "agent"}).json()["data"]
    assert by_agent[0]["agent_id"] == chat.refresh()["agent_id"]


def test_sums_equal_the_exported_rows(openai_server, make_model, make_chat, api_client):
    model = priced_model(make_model, openai_server, api_client, input_price_per_mtok="0.15")
    openai_server.queue(*[Reply(text=f"{i}", usage={"input_tokens": 10 + i, "output_tokens": i}) for i in range(3)])
    chats = [make_chat(model=model) for _ in range(3)]
    for chat in chats:
        chat.say("hi")

    export = api_client.get("/v1/usage/export")
    assert export.status_code == 200 and export["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(b"".join(export.streaming_content).decode())))
    assert len(rows) == 3 and {r["session_id"] for r in rows} == {c.id for c in chats}
    report = api_client.get("/v1/usage", {"group_by": "day"}).json()
    assert Decimal(report["totals"]["cost_usd"]) == sum(Decimal(r["cost_usd"]) for r in rows)
    assert report["totals"]["input_tokens"] == sum(int(r["input_tokens"]) for r in rows) == 33
    [day] = report["data"]
    assert day["calls"] == 3 and Decimal(day["cost_usd"]) == Decimal(report["totals"]["cost_usd"])

    one = api_client.get("/v1/usage", {"session_id": chats[1].id}).json()["totals"]
    assert one["calls"] == 1 and one["input_tokens"] == 11


def test_filters_and_window_are_validated(api_client):
    assert api_client.get("/v1/usage", {"group_by": "planet"}).json() == {"error": "Invalid request", "status": 400}
    assert api_client.get("/v1/usage", {"start": "yesterday"}).status_code == 400
    assert api_client.get("/v1/usage", {"session_id": "nope"}).status_code == 400
    bad_window = api_client.get("/v1/usage", {"start": "2026-02-01", "end": "2026-01-01"})
    assert bad_window.status_code == 400
    empty = api_client.get("/v1/usage", {"start": "2020-01-01", "end": "2020-02-01T00:00:00Z", "group_by": "day"})
    assert empty.json()["totals"]["calls"] == 0 and empty.json()["data"] == []


def test_other_organizations_see_none_of_it(openai_server, make_model, make_chat, api_client, other_org_client):
    model = priced_model(make_model, openai_server, api_client)
    openai_server.queue(Reply(text="ok", usage={"input_tokens": 5, "output_tokens": 5}))
    chat = make_chat(model=model)
    chat.say("hi")
    assert api_client.get("/v1/usage").json()["totals"]["calls"] == 1
    assert other_org_client.get("/v1/usage").json()["totals"]["calls"] == 0
    assert other_org_client.get("/v1/usage", {"session_id": chat.id}).json()["totals"]["calls"] == 0
    export = other_org_client.get("/v1/usage/export")
    assert b"".join(export.streaming_content).decode().count("\n") == 1  # the header only
