"""Every existing organization gets its built-in `generic` harness; existing agents and sessions move onto it."""

from django.db import migrations

GENERIC = {
    "name": "generic",
    "display_name": "Generic",
    "description": "The built-in default harness: no extra prompt or capabilities; agents bring their own.",
    "is_built_in": True,
}


def forwards(apps, schema_editor):
    Organization = apps.get_model("accounts", "Organization")
    Harness = apps.get_model("harnesses", "Harness")
    Agent = apps.get_model("agents", "Agent")
    Session = apps.get_model("agent_sessions", "Session")
    for org in Organization.objects.all().iterator():
        harness = Harness.objects.filter(organization=org, name="generic").first()
        if harness is None:
            harness = Harness.objects.create(organization=org, **GENERIC)
        Agent.objects.filter(organization=org, harness__isnull=True).update(harness=harness)
        Session.objects.filter(organization=org, harness__isnull=True).update(harness=harness)


class Migration(migrations.Migration):
    dependencies = [
        ("harnesses", "0001_initial"),
        ("accounts", "0003_api_keys_refresh_tokens"),
        ("agents", "0002_agent_harness"),
        ("agent_sessions", "0005_session_harness"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
