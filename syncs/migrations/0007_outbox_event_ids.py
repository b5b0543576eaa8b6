from django.db import migrations, models
from django.db.models.functions import Cast

import syncs.event_ids


def tombstones_remove(apps, schema_editor):
    """Drop 0004's trigger first, then the tombstones it left (SQLite)."""
    if schema_editor.connection.vendor == "sqlite":
        with schema_editor.connection.cursor() as cursor:
            cursor.execute('DROP TRIGGER IF EXISTS "syncs_outbox_tombstone"')
    apps.get_model("syncs", "OutboxEvent").objects.filter(status="tombstone").delete()


def ids_from_pks(apps, schema_editor):
    """The rows already written keep the id and version they had on the wire.

    A target that received one before drops it again as a duplicate; new
    versions, in microseconds, are larger than all of these.
    """
    apps.get_model("syncs", "OutboxEvent").objects.update(
        event_id=Cast("pk", models.CharField(max_length=64)), version=models.F("pk")
    )


class Migration(migrations.Migration):
    """Events get their own id and version; the outbox id is a plain auto id."""

    dependencies = [
        ("syncs", "0006_sync_fill"),
    ]

    operations = [
        migrations.RunPython(tombstones_remove, migrations.RunPython.noop),
        migrations.AddField(
            model_name="outboxevent",
            name="event_id",
            field=models.CharField(default="", editable=False, max_length=64),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="outboxevent",
            name="version",
            field=models.BigIntegerField(default=0, editable=False),
            preserve_default=False,
        ),
        migrations.RunPython(ids_from_pks, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="outboxevent",
            name="event_id",
            field=models.CharField(
                default=syncs.event_ids.event_id_new, editable=False, max_length=64
            ),
        ),
        migrations.AlterField(
            model_name="outboxevent",
            name="version",
            field=models.BigIntegerField(
                default=syncs.event_ids.event_version_new, editable=False
            ),
        ),
        migrations.AlterField(
            model_name="outboxevent",
            name="id",
            field=models.BigAutoField(
                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
            ),
        ),
    ]
