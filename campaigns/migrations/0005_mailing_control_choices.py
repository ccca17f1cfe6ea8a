from django.db import migrations

# The earlier "LAB" choice (any council whose control label names Labour) is exactly these four
# choices together. The other earlier party codes have no exact equivalent and keep working as
# they are (campaigns.audience.LEGACY_CONTROL_CODES).
LABOUR_CHOICES = ["lab_majority", "lab_minority", "lab_shared", "lab_mayor"]


def labour_to_its_four_choices(apps, schema_editor):
    Mailing = apps.get_model("campaigns", "Mailing")
    for mailing in Mailing.objects.filter(controls__contains=["LAB"]).only("pk", "controls"):
        controls = []
        for code in mailing.controls:
            for new in LABOUR_CHOICES if code == "LAB" else [code]:
                if new not in controls:
                    controls.append(new)
        Mailing.objects.filter(pk=mailing.pk).update(controls=controls)


def labour_back_to_its_party_code(apps, schema_editor):
    Mailing = apps.get_model("campaigns", "Mailing")
    for mailing in Mailing.objects.filter(controls__contains=LABOUR_CHOICES).only("pk", "controls"):
        controls = ["LAB" if code == "lab_majority" else code for code in mailing.controls]
        controls = [code for code in controls if code not in LABOUR_CHOICES]
        Mailing.objects.filter(pk=mailing.pk).update(controls=controls)


class Migration(migrations.Migration):
    dependencies = [
        ("campaigns", "0004_mailing_rate_limit_at_most_max"),
    ]

    operations = [
        migrations.RunPython(labour_to_its_four_choices, labour_back_to_its_party_code),
    ]
