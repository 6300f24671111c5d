"""Django admin: the usage ledger is read only, budgets are editable (through the same service as the API)."""

from decimal import Decimal

import pytest
from django.test import Client

from apps.accounts.models import User
from apps.core.ids import format_id
from apps.llm.services import connection_set
from apps.usage.models import Budget, UsageRecord
from tests.fakes import Reply

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff() -> Client:
    client = Client()
    client.force_login(User.objects.create_superuser(email="ops@example.com", password="S3cure-pass!"))
    return client


def test_the_ledger_is_read_only(staff, openai_server, make_model, make_chat):
    model = make_model("openai", base_url=openai_server.base_url, model_id="admin-model")
    openai_server.queue(Reply(text="hi", usage={"input_tokens": 3, "output_tokens": 2}))
    make_chat(model=model).say("hello")
    record = UsageRecord.objects.get()
    assert staff.get("/admin/usage/usagerecord/").status_code == 200
    assert b"admin-model" in staff.get(f"/admin/usage/usagerecord/{record.pk}/change/").content
    assert staff.get("/admin/usage/usagerecord/add/").status_code == 403
    staff.post(f"/admin/usage/usagerecord/{record.pk}/delete/", {"post": "yes"})
    assert UsageRecord.objects.filter(pk=record.pk).exists()


def test_budgets_are_editable(staff, api_client, default_org):
    body = {"subject_type": "org", "subject_id": format_id("org", default_org.pk), "currency": "usd", "limit": 10}
    budget = Budget.objects.get(pk=api_client.post("/v1/budgets", body, format="json").json()["id"][5:])
    page = f"/admin/usage/budget/{budget.pk}/change/"
    assert staff.get(page).status_code == 200
    form = {
        "limit": "25.5",
        "soft_limit": "",
        "status": "disabled",
        "metadata": "null",
        "entries-TOTAL_FORMS": "0",
        "entries-INITIAL_FORMS": "0",
        "entries-MIN_NUM_FORMS": "0",
        "entries-MAX_NUM_FORMS": "1000",
    }
    response = staff.post(page, form)
    assert response.status_code == 302, response.content[:2000]
    budget.refresh_from_db()
    assert (budget.limit, budget.status) == (Decimal("25.5"), "disabled")
    assert api_client.get(f"/v1/budgets/{format_id('bdgt', budget.pk)}").json()["status"] == "disabled"


def test_connections_in_admin_never_show_the_key(staff, default_org):
    user = User.objects.create_user(email="own@example.com", password="S3cure-pass!")
    connection = connection_set(user=user, provider="openai", api_key="sk-never-shown-123")
    page = staff.get(f"/admin/llm/userconnection/{connection.pk}/change/")
    assert page.status_code == 200 and b"sk-never-shown-123" not in page.content
    assert connection.api_key_encrypted.encode() not in page.content
