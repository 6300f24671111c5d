"""Parallel turns on one budget overspend it by at most about one model call (PostgreSQL: real concurrency)."""

import threading

import pytest
from django.db import connection

from apps.accounts.models import DEFAULT_ORG_ID
from apps.core.ids import format_id
from tests.fakes import Reply, ToolCall

CALL_TOKENS = 100  # every fake call: 90 in + 10 out


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_parallel_turns_cannot_overspend_by_more_than_one_call(openai_server, make_model, make_chat, api_client):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (concurrent writers)")
    model = make_model("openai", base_url=openai_server.base_url, model_id="parallel-model")
    # Every reply asks for a tool, so each turn would call the model forever without the budget.
    openai_server.queue(
        *[
            Reply(
                text="",
                tool_calls=[ToolCall("add", {"a": i, "b": 1}, id=f"call_{i}")],
                usage={"input_tokens": 90, "output_tokens": 10},
                chunk_delay=0.02,
            )
            for i in range(60)
        ]
    )
    chats = [make_chat(capabilities=["test_math"], model=model) for _ in range(4)]
    agent_ids = {chat.refresh()["agent_id"] for chat in chats}
    budget = api_client.post(
        "/v1/budgets",
        {"subject_type": "org", "subject_id": format_id("org", DEFAULT_ORG_ID), "currency": "tokens", "limit": 550},
        format="json",
    ).json()
    assert len(agent_ids) == 4
    for chat in chats:
        chat.post("count")

    def run(chat) -> None:
        try:
            chat.run()
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(chat,)) for chat in chats]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)

    spent = -api_client.get(f"/v1/budgets/{budget['id']}").json()["balance"] + 550
    calls = len(openai_server.generation_requests())
    assert spent == calls * CALL_TOKENS
    assert 550 <= spent <= 550 + CALL_TOKENS
    assert sum(e["amount"] for e in api_client.get(f"/v1/budgets/{budget['id']}/ledger").json()) == spent
    usage = api_client.get("/v1/usage").json()["totals"]
    assert usage["total_tokens"] == spent and usage["calls"] == calls
    for chat in chats:
        assert chat.refresh()["status"] == "idle"
        assert chat.events(types="turn.failed")[0]["data"]["error_code"] == "budget_exceeded"
