from django.db import migrations

ERASURE_TRIGGER = """
CREATE TRIGGER members_erasurerequest_kept BEFORE DELETE ON members_erasurerequest
FOR EACH ROW EXECUTE FUNCTION alc_refuse_row_change();
"""


class Migration(migrations.Migration):
    """Erasure requests and their outcomes are the record that an erasure was asked for and
    done: the database refuses to delete them (they are still decided, so updates go on)."""

    dependencies = [("members", "0007_export_log")]

    operations = [
        migrations.RunSQL(
            ERASURE_TRIGGER,
            "DROP TRIGGER IF EXISTS members_erasurerequest_kept ON members_erasurerequest",
        ),
    ]
