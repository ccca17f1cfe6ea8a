from django.db import migrations, models
from django.db.models import F


def mark_invitation_records(apps, schema_editor):
    """Records noting an invitation (a councillor added by hand or imported, an invitation sent
    again) were created already decided, their decision time taken just before their request
    time; a real request was decided after it arrived."""
    JoinRequest = apps.get_model("members", "JoinRequest")
    JoinRequest.objects.exclude(status="pending").filter(
        decided_at__lte=F("requested_at")
    ).update(asked_to_join=False)


class Migration(migrations.Migration):
    dependencies = [
        ("members", "0004_join_notice_and_email_history"),
    ]

    operations = [
        migrations.AddField(
            model_name="joinrequest",
            name="asked_to_join",
            field=models.BooleanField(default=True),
        ),
        migrations.RunPython(mark_invitation_records, migrations.RunPython.noop),
    ]
