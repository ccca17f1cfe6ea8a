"""Build the search index for the people, councils, groups, mailings and campaigns already
stored. Later changes keep it up to date as they happen (search.receivers)."""

from django.db import migrations


def build(apps, schema_editor):
    from search.services import entries_reconcile

    entries_reconcile(apps=apps)


class Migration(migrations.Migration):
    dependencies = [
        ("search", "0001_initial"),
        ("members", "0009_notice_outbox"),
        ("regions", "0004_council_history_and_file_values"),
        ("campaigns", "0007_provider_events_and_suppression_lifts"),
    ]

    operations = [migrations.RunPython(build, migrations.RunPython.noop)]
