"""The default organization and the anonymous user of AUTH_MODE=none (contract 3.11, 4.1)."""

import uuid

from django.db import migrations

DEFAULT_ORG_ID = uuid.UUID(int=1)
ANONYMOUS_USER_ID = uuid.UUID("00000000-0000-0000-0000-000000000001")


def create_defaults(apps, schema_editor):
    Organization = apps.get_model("accounts", "Organization")
    User = apps.get_model("accounts", "User")
    Membership = apps.get_model("accounts", "Membership")
    org, _ = Organization.objects.get_or_create(id=DEFAULT_ORG_ID, defaults={"name": "Default"})
    user, _ = User.objects.get_or_create(
        id=ANONYMOUS_USER_ID,
        defaults={"email": "anonymous@local", "name": "Anonymous", "auth_provider": "none", "password": "!"},
    )
    Membership.objects.get_or_create(user=user, organization=org, defaults={"role": "admin"})


class Migration(migrations.Migration):
    dependencies = [("accounts", "0001_initial")]

    operations = [migrations.RunPython(create_defaults, migrations.RunPython.noop)]
