from django.db import migrations


class Migration(migrations.Migration):
    """The fill's first outbox row is a pk, not an event id (see 0007)."""

    dependencies = [
        ("syncs", "0007_outbox_event_ids"),
    ]

    operations = [
        migrations.RenameField(
            model_name="syncfill",
            old_name="first_event_id",
            new_name="first_outbox_pk",
        ),
    ]
