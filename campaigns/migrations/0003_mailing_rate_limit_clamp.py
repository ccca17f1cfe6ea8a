from django.db import migrations

RATE_LIMIT_MAX = 10000


def clamp_rate_limits(apps, schema_editor):
    """Bring any rate above the new maximum down to it, before the constraint is added."""
    Mailing = apps.get_model("campaigns", "Mailing")
    Mailing.objects.filter(rate_limit__gt=RATE_LIMIT_MAX).update(rate_limit=RATE_LIMIT_MAX)


class Migration(migrations.Migration):
    dependencies = [
        ("campaigns", "0002_mailing_rate_limit_positive"),
    ]

    operations = [
        migrations.RunPython(clamp_rate_limits, migrations.RunPython.noop),
    ]
