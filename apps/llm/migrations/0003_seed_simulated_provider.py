"""A fresh install has the built-in simulated provider with a default model in the default organization.

Well-known ids (provider_000…001, model_000…001) so docs and tests can name them. Idempotent: nothing
happens when the default organization already has an llmsim provider.
"""

import uuid

from django.db import migrations

DEFAULT_ORG_ID = uuid.UUID(int=1)
SIMULATED_PROVIDER_ID = uuid.UUID(int=1)
SIMULATED_MODEL_ID = uuid.UUID(int=1)


def seed_simulated(apps, schema_editor):
    Organization = apps.get_model("accounts", "Organization")
    LlmProvider = apps.get_model("llm", "LlmProvider")
    LlmModel = apps.get_model("llm", "LlmModel")
    org = Organization.objects.filter(pk=DEFAULT_ORG_ID).first()
    if org is None or LlmProvider.objects.filter(organization=org, provider_type="llmsim").exists():
        return
    provider = LlmProvider.objects.create(
        id=SIMULATED_PROVIDER_ID, organization=org, name="Simulated", provider_type="llmsim", status="active"
    )
    LlmModel.objects.create(
        id=SIMULATED_MODEL_ID,
        organization=org,
        provider=provider,
        model_id="llmsim-default",
        display_name="Simulated (default)",
        capabilities=["chat", "tools"],
        is_default=True,
        source="predefined",
        status="active",
    )


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_default_org_and_anonymous_user"),
        ("llm", "0002_base_url_accepts_single_label_hosts"),
    ]

    operations = [migrations.RunPython(seed_simulated, migrations.RunPython.noop)]
