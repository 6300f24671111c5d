"""An operator in a real browser (headless Chromium): logs in, finds a session, reads its timeline, cancels a
running turn, sees a failed turn as failed."""

import re

import pytest

from apps.core.ids import format_id
from apps.sessions.models import Turn
from tests.admin.conftest import say, start_turn, worker_continues

# live_server needs committed rows (tests/conftest.py gives transactional tests their serialized rollback).
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]


def test_log_in_and_find_a_session_in_the_list(logged_in, live_server, make_session, operator, screenshot):
    page = logged_in
    session = make_session(title="Quarterly report", created_by=operator)
    say(session, "Summarise the quarter")
    other = make_session(title="Unrelated")
    assert "Everruns" in page.inner_text("#site-name")
    page.click("#content-main a[href='/admin/agent_sessions/session/']")
    page.wait_for_selector("#result_list")
    rows = page.locator("#result_list tbody tr")
    assert rows.count() == 2
    row = page.locator("#result_list tbody tr", has_text="Quarterly report")
    for shown in (format_id("session", session.pk), session.agent.name, "ops@example.com", "Default", "completed"):
        assert shown in row.inner_text(), shown
    screenshot("sessions-list")
    page.fill("#searchbar", "quarter")
    page.press("#searchbar", "Enter")
    page.wait_for_selector("#result_list")
    assert page.locator("#result_list tbody tr").count() == 1
    assert "Unrelated" not in page.inner_text("#result_list")
    assert format_id("session", other.pk) not in page.content()


def test_a_sessions_timeline_after_a_real_turn(logged_in, live_server, make_session, screenshot):
    page = logged_in
    session = make_session(title="Timeline")
    say(session, "Hello there")
    page.goto(f"{live_server.url}/admin/agent_sessions/session/{session.pk}/change/")
    conversation = page.locator("#conversation")
    assert "Hello there" in conversation.inner_text()
    assert page.locator("#conversation .role-agent").count() == 1
    types = page.locator("#timeline tr.event-row td.event-type").all_inner_texts()
    assert types[0] == "session.idled" and types[-1] == "session.started"  # newest first
    assert "turn.completed" in types and "input.message" in types
    turn = Turn.objects.get(session=session)
    turn_row = page.locator(f'tr.turn-row[data-turn="{format_id("turn", turn.pk)}"]')
    assert "completed" in turn_row.locator(".turn-status-cell").inner_text()
    screenshot("session-detail")
    page.select_option("#id_event_type", "input.message")
    page.click(".ops-timeline-filter input[type=submit]")
    page.wait_for_url(re.compile(r"event_type=input.message"))
    assert page.locator("#timeline tr.event-row td.event-type").all_inner_texts() == ["input.message"]


def test_cancel_a_running_turn_and_see_it_cancelled(logged_in, live_server, make_session):
    page = logged_in
    session = make_session(title="Long job")
    turn = start_turn(session, "Work on this for a long time")
    page.goto(f"{live_server.url}/admin/agent_sessions/session/{session.pk}/change/")
    row = page.locator(f'tr.turn-row[data-turn="{format_id("turn", turn.pk)}"]')
    assert "running" in row.locator(".turn-status-cell").inner_text()
    row.locator("input.ops-cancel").click()
    page.wait_for_selector(".messagelist")
    assert "Cancel requested" in page.inner_text(".messagelist")
    row = page.locator(f'tr.turn-row[data-turn="{format_id("turn", turn.pk)}"]')
    assert "cancel requested" in row.locator(".turn-status-cell").inner_text()
    assert row.locator("input.ops-cancel").count() == 0

    worker_continues(turn)  # the worker reaches its next checkpoint and stops the turn
    page.reload()
    row = page.locator(f'tr.turn-row[data-turn="{format_id("turn", turn.pk)}"]')
    assert row.locator(".turn-status-cell").inner_text().strip() == "cancelled"
    assert "Work was cancelled by user." in page.inner_text("#conversation")


def test_a_failed_turn_is_shown_failed_and_can_be_retried(logged_in, live_server, make_session, failing_model):
    page = logged_in
    session = make_session(title="Broken", model=failing_model)
    say(session, "This call fails upstream")
    failed = Turn.objects.get(session=session)
    page.goto(f"{live_server.url}/admin/agent_sessions/turn/")
    row = page.locator("#result_list tbody tr", has_text=format_id("turn", failed.pk))
    assert row.locator(".turn-status").inner_text() == "failed"
    assert "llm_error" in row.inner_text()
    page.goto(f"{live_server.url}/admin/agent_sessions/session/")
    row = page.locator("#result_list tbody tr", has_text="Broken")
    assert row.locator(".turn-status").inner_text() == "failed"
    page.goto(f"{live_server.url}/admin/agent_sessions/session/{session.pk}/change/")
    turn_row = page.locator(f'tr.turn-row[data-turn="{format_id("turn", failed.pk)}"]')
    assert turn_row.locator(".turn-status").inner_text() == "failed"
    assert "llm_error" in turn_row.locator(".turn-failure").inner_text()
    turn_row.locator("input.ops-retry").click()
    page.wait_for_selector(".messagelist")
    assert "Retried" in page.inner_text(".messagelist")
    assert page.locator("tr.turn-row").count() == 2
    assert "queued" in page.locator("tr.turn-row").first.inner_text()


def test_the_dashboard_shows_what_runs_and_what_failed(
    logged_in, live_server, make_agent, make_session, failing_model, screenshot
):
    page = logged_in
    agent = make_agent(name="Support bot")
    for n in range(2):
        say(make_session(for_agent=agent), f"question {n}")
    say(make_session(model=failing_model), "this fails")
    start_turn(make_session(), "running now")
    page.goto(f"{live_server.url}/admin/")
    card = page.locator("#dashboard")
    assert page.locator("#dash-running .value").inner_text() == "1"
    assert page.locator("#dash-failed-hour .value").inner_text() == "1"
    assert "error rate 33.3% of 3" in page.locator("#dash-failed-hour").inner_text()
    top = page.locator("#dash-top-agents tbody tr").first.inner_text()
    assert "Support bot" in top
    latency = page.locator("#dash-latency").inner_text()
    assert "llmsim-default" in latency and "gpt-fake" in latency
    assert "LLM providers" in page.inner_text("#content-main") and card.is_visible()
    screenshot("dashboard")


def test_test_a_providers_connection(logged_in, live_server, make_provider, openai_server, screenshot):
    openai_server.api_key = "sk-right"
    make_provider("Upstream OK", openai_server.base_url, "sk-right")
    make_provider("Wrong key", openai_server.base_url, "sk-wrong")
    page = logged_in
    page.goto(f"{live_server.url}/admin/llm/llmprovider/")
    for name in ("Upstream OK", "Wrong key"):
        page.locator("#result_list tbody tr", has_text=name).locator("input.action-select").check()
    page.select_option("select[name=action]", "test_connection")
    page.click("button[name=index]")
    page.wait_for_selector(".messagelist")
    shown = page.inner_text(".messagelist")
    assert f"Upstream OK: OK: Connected: {len(openai_server.models)} models listed" in shown
    assert "Wrong key: FAILED: Provider rejected the API key" in shown
    screenshot("provider-test-connection")
