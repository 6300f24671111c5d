"""Budgets through the HTTP API: the SDK's shapes, and enforcement before every model call."""

import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from apps.core.ids import format_id, parse_id
from tests.fakes import Reply, ToolCall

pytestmark = pytest.mark.django_db


def create_budget(client, subject_type, subject_id, currency="tokens", limit=100, **extra):
    body = {"subject_type": subject_type, "subject_id": subject_id, "currency": currency, "limit": limit, **extra}
    response = client.post("/v1/budgets", body, format="json")
    assert response.status_code == 201, response.content
    return response.json()


@pytest.fixture
def chat_on_fake(openai_server, make_model, make_chat):
    """chat_on_fake(**make_chat kwargs) -> a Chat whose model is an OpenAI provider on the fake server."""
    model = make_model("openai", base_url=openai_server.base_url, model_id="budget-model")

    def _make(**kwargs):
        return make_chat(model=model, **kwargs)

    return _make


def test_budget_lifecycle_in_the_sdk_shapes(api_client, agent):
    agent_id = format_id("agent", agent.public_id)
    budget = create_budget(api_client, "agent", agent_id, limit=1000, period="daily", metadata={"team": "a"})
    assert budget["id"].startswith("bdgt_") and budget["subject_id"] == agent_id
    assert (budget["balance"], budget["limit"], budget["status"], budget["currency"]) == (
        1000,
        1000,
        "active",
        "tokens",
    )
    assert budget["period"] == {"type": "calendar", "unit": "day"} and budget["period_started_at"].endswith(
        "T00:00:00.000Z"
    )
    assert budget["organization_id"].startswith("org_") and budget["soft_limit"] is None

    listed = api_client.get("/v1/budgets", {"subject_type": "agent", "subject_id": agent_id}).json()
    assert [b["id"] for b in listed] == [budget["id"]]
    assert api_client.get("/v1/budgets", {"subject_type": "session"}).json() == []

    patched = api_client.patch(f"/v1/budgets/{budget['id']}", {"limit": 500, "soft_limit": 50}, format="json").json()
    assert (patched["limit"], patched["soft_limit"], patched["balance"]) == (500, 50, 500)

    topped = api_client.post(
        f"/v1/budgets/{budget['id']}/top-up", {"amount": 25, "description": "goodwill"}, format="json"
    )
    assert topped.status_code == 200 and topped.json()["balance"] == 525
    [entry] = api_client.get(f"/v1/budgets/{budget['id']}/ledger").json()
    assert (entry["amount"], entry["meter_source"], entry["ref_type"], entry["description"]) == (
        -25,
        "top_up",
        "manual",
        "goodwill",
    )
    assert api_client.get(f"/v1/budgets/{budget['id']}/check").json()["action"] == "continue"

    assert api_client.delete(f"/v1/budgets/{budget['id']}").status_code == 204
    assert api_client.get(f"/v1/budgets/{budget['id']}").json() == {"error": "Budget not found", "status": 404}
    assert api_client.get("/v1/budgets").json() == []


@pytest.mark.parametrize(
    "body",
    [
        {"subject_type": "planet", "subject_id": "x", "currency": "usd", "limit": 1},
        {"subject_type": "agent", "subject_id": "not-an-id", "currency": "usd", "limit": 1},
        {"subject_type": "organization", "subject_id": "org_1", "currency": "usd", "limit": 1},
        {"subject_type": "session", "subject_id": format_id("session", uuid.uuid4()), "currency": "eur", "limit": 1},
        {"subject_type": "organization", "subject_id": "ORG", "currency": "usd", "limit": -1},
        {"subject_type": "organization", "subject_id": "ORG", "currency": "usd", "limit": 1, "period": "weekly"},
        {"subject_type": "organization", "subject_id": "ORG", "currency": "usd"},
    ],
)
def test_bad_budgets_are_400(api_client, default_org, body):
    body = {k: (format_id("org", default_org.pk) if v == "ORG" else v) for k, v in body.items()}
    response = api_client.post("/v1/budgets", body, format="json")
    assert response.json() == {"error": "Invalid request", "status": 400}
    assert api_client.get("/v1/budgets").json() == []


def test_unknown_subjects_and_other_organizations_are_404(api_client, other_org_client, agent, make_org):
    missing = {"subject_type": "agent", "subject_id": format_id("agent", uuid.uuid4())}
    response = api_client.post("/v1/budgets", {**missing, "currency": "usd", "limit": 1}, format="json")
    assert response.json() == {"error": "Agent not found", "status": 404}
    foreign_org = {"subject_type": "org", "subject_id": format_id("org", make_org("Elsewhere").pk)}
    assert (
        api_client.post("/v1/budgets", {**foreign_org, "currency": "usd", "limit": 1}, format="json").status_code == 404
    )

    budget = create_budget(api_client, "agent", format_id("agent", agent.public_id))
    for method, path in [
        ("get", f"/v1/budgets/{budget['id']}"),
        ("patch", f"/v1/budgets/{budget['id']}"),
        ("delete", f"/v1/budgets/{budget['id']}"),
        ("post", f"/v1/budgets/{budget['id']}/top-up"),
        ("get", f"/v1/budgets/{budget['id']}/ledger"),
        ("get", f"/v1/budgets/{budget['id']}/check"),
    ]:
        response = getattr(other_org_client, method)(path, {"amount": 1} if method == "post" else None, format="json")
        assert response.status_code == 404, (method, path)
    assert other_org_client.get("/v1/budgets").json() == []
    # The other organization's admin cannot budget our agent either.
    theirs = {"subject_type": "agent", "subject_id": budget["subject_id"], "currency": "usd", "limit": 1}
    assert other_org_client.post("/v1/budgets", theirs, format="json").status_code == 404
    assert api_client.get(f"/v1/budgets/{budget['id']}").json()["limit"] == 100


def test_members_read_budgets_and_admins_write_them(api_client, full_auth, member_client, admin_client, agent):
    agent_id = format_id("agent", agent.public_id)
    body = {"subject_type": "agent", "subject_id": agent_id, "currency": "usd", "limit": 5}
    assert member_client.post("/v1/budgets", body, format="json").status_code == 403
    budget = create_budget(admin_client, "agent", agent_id, currency="usd", limit=5)
    assert member_client.get(f"/v1/budgets/{budget['id']}").json()["limit"] == 5
    assert member_client.post(f"/v1/budgets/{budget['id']}/top-up", {"amount": 1}, format="json").status_code == 403
    assert admin_client.get(f"/v1/budgets/{budget['id']}").json()["balance"] == 5


def test_a_session_budget_of_n_tokens_stops_the_second_turn(openai_server, chat_on_fake, api_client):
    chat = chat_on_fake()
    budget = create_budget(api_client, "session", chat.id, limit=100)
    openai_server.queue(Reply(text="A long answer.", usage={"input_tokens": 80, "output_tokens": 30}))
    chat.say("first")
    assert chat.refresh()["status"] == "idle"
    assert api_client.get(f"/v1/budgets/{budget['id']}").json() | {"id": None} == budget | {
        "id": None,
        "balance": -10,
        "status": "exhausted",
        "updated_at": api_client.get(f"/v1/budgets/{budget['id']}").json()["updated_at"],
    }
    [charge] = api_client.get(f"/v1/budgets/{budget['id']}/ledger").json()
    assert (charge["amount"], charge["meter_source"], charge["session_id"]) == (110, "llm_tokens", chat.id)

    body = {"message": {"role": "user", "content": [{"type": "text", "text": "second"}]}}
    refused = api_client.post(f"/v1/sessions/{chat.id}/messages", body, format="json")
    assert refused.status_code == 422
    assert refused.json() == {"error": "Cannot start turn: budget exceeded", "status": 422}
    assert [m["content"][0]["text"] for m in chat.messages() if m["role"] == "user"] == ["first"]
    [exceeded] = chat.events(types="budget.exceeded")
    assert exceeded["data"]["budget_id"] == budget["id"] and exceeded["data"]["balance"] == -10
    assert len(openai_server.generation_requests()) == 1

    check = api_client.get(f"/v1/sessions/{chat.id}/budget-check").json()
    assert (check["action"], check["budget_id"], check["error_code"]) == ("stop", budget["id"], "budget_exceeded")
    # A top-up makes room again: the next message starts a turn.
    api_client.post(f"/v1/budgets/{budget['id']}/top-up", {"amount": 200}, format="json")
    openai_server.queue(Reply(text="ok", usage={"input_tokens": 1, "output_tokens": 1}))
    chat.say("third")
    assert chat.last_agent_text() == "ok"


def test_a_running_turn_stops_at_its_next_step(openai_server, chat_on_fake, api_client, default_org):
    chat = chat_on_fake(capabilities=["test_math"])
    budget = create_budget(api_client, "organization", format_id("org", default_org.pk), limit=100)
    openai_server.queue(
        Reply(
            text="",
            tool_calls=[ToolCall("add", {"a": 1, "b": 2}, id="c1")],
            usage={"input_tokens": 90, "output_tokens": 20},
        ),
        Reply(text="never sent"),
    )
    chat.say("1 + 2?")

    session = chat.refresh()
    assert session["status"] == "idle"
    [failed] = chat.events(types="turn.failed")
    assert failed["data"]["error_code"] == "budget_exceeded"
    assert failed["data"]["error"].startswith(
        f"Budget exceeded: organization budget {budget['id']} has -10 tokens left"
    )
    assert chat.last_agent_text() == "I stopped because a budget for this work is used up."
    assert len(openai_server.generation_requests()) == 1  # the second call was never made
    types = chat.types()
    assert types.index("tool.completed") < types.index("budget.exceeded") < types.index("turn.failed")


def test_a_warning_at_80_percent_once_per_period(openai_server, chat_on_fake, api_client, agent):
    chat = chat_on_fake()
    agent_id = chat.refresh()["agent_id"]
    budget = create_budget(api_client, "agent", agent_id, limit=100, period="monthly")
    openai_server.queue(
        Reply(text="a", usage={"input_tokens": 50, "output_tokens": 10}),
        Reply(text="b", usage={"input_tokens": 15, "output_tokens": 10}),
        Reply(text="c", usage={"input_tokens": 5, "output_tokens": 1}),
    )
    chat.say("one")
    assert chat.events(types="budget.warning") == []
    chat.say("two")  # 85 used: below the 20 left of the default threshold
    [warning] = chat.events(types="budget.warning")
    assert (warning["data"]["budget_id"], warning["data"]["balance"], warning["data"]["limit"]) == (
        budget["id"],
        15,
        100,
    )
    chat.say("three")
    assert len(chat.events(types="budget.warning")) == 1
    assert api_client.get(f"/v1/budgets/{budget['id']}/check").json()["action"] == "warn"

    # A new period starts from zero.
    from apps.usage.models import Budget

    Budget.objects.filter(pk=parse_id("bdgt", budget["id"])).update(
        period_started_at=timezone.now() - timedelta(days=40)
    )
    fresh = api_client.get(f"/v1/budgets/{budget['id']}/check").json()
    assert (fresh["action"], fresh["balance"]) == ("continue", None)
    assert api_client.get(f"/v1/budgets/{budget['id']}").json()["balance"] == 100


def test_usd_budgets_charge_the_exact_cost(openai_server, chat_on_fake, api_client):
    chat = chat_on_fake()
    model_id = api_client.get("/v1/llm-models").json()["data"]
    model = next(m for m in model_id if m["model_id"] == "budget-model")
    api_client.patch(
        f"/v1/llm-models/{model['id']}", {"input_price_per_mtok": "2.5", "output_price_per_mtok": "10"}, format="json"
    )
    budget = create_budget(api_client, "session", chat.id, currency="usd", limit=0.01)
    openai_server.queue(Reply(text="x", usage={"input_tokens": 1000, "output_tokens": 100}))
    chat.say("hi")
    [charge] = api_client.get(f"/v1/budgets/{budget['id']}/ledger").json()
    assert Decimal(str(charge["amount"])) == Decimal("0.0035") and charge["meter_source"] == "llm_cost"
    assert Decimal(str(api_client.get(f"/v1/budgets/{budget['id']}").json()["balance"])) == Decimal("0.0065")


def test_session_budgets_lists_the_hierarchy(api_client, chat_on_fake, default_org, other_org_client):
    chat = chat_on_fake()
    agent_id = chat.refresh()["agent_id"]
    mine = [
        create_budget(api_client, "org", format_id("org", default_org.pk))["id"],
        create_budget(api_client, "agent", agent_id)["id"],
        create_budget(api_client, "session", chat.id)["id"],
    ]
    other_chat = chat_on_fake()
    create_budget(api_client, "session", other_chat.id)
    assert sorted(b["id"] for b in api_client.get(f"/v1/sessions/{chat.id}/budgets").json()) == sorted(mine)
    assert other_org_client.get(f"/v1/sessions/{chat.id}/budgets").json() == {
        "error": "Session not found",
        "status": 404,
    }
    assert other_org_client.get(f"/v1/sessions/{chat.id}/budget-check").status_code == 404
