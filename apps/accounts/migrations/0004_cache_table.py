"""The database cache table (everruns/settings.py CACHES, CACHE_TABLE): throttle buckets shared by every process.

Created whatever CACHES says today, so switching from Redis back to the database cache needs no extra step.
"""

from django.core.management.commands.createcachetable import Command as CreateCacheTable
from django.db import migrations

TABLE = "everruns_cache"  # settings.CACHE_TABLE


def create_table(apps, schema_editor):
    command = CreateCacheTable()
    command.verbosity = 0
    command.create_table(schema_editor.connection.alias, TABLE, dry_run=False)


def drop_table(apps, schema_editor):
    schema_editor.execute(f"DROP TABLE IF EXISTS {schema_editor.quote_name(TABLE)}")


class Migration(migrations.Migration):
    dependencies = [("accounts", "0003_api_keys_refresh_tokens")]

    operations = [migrations.RunPython(create_table, drop_table)]
