import django.core.validators
from django.db import migrations, models

import campaigns.models


class Migration(migrations.Migration):
    dependencies = [
        ("campaigns", "0003_mailing_rate_limit_clamp"),
    ]

    operations = [
        migrations.AlterField(
            model_name="historicalmailing",
            name="rate_limit",
            field=models.FloatField(
                blank=True,
                help_text="Messages per second for this mailing, to send it more slowly than the portal's own limit; blank to send as fast as that allows.",
                null=True,
                validators=[
                    campaigns.models.validate_positive,
                    django.core.validators.MaxValueValidator(
                        10000, message="Enter at most 10,000 messages per second."
                    ),
                ],
            ),
        ),
        migrations.AlterField(
            model_name="mailing",
            name="rate_limit",
            field=models.FloatField(
                blank=True,
                help_text="Messages per second for this mailing, to send it more slowly than the portal's own limit; blank to send as fast as that allows.",
                null=True,
                validators=[
                    campaigns.models.validate_positive,
                    django.core.validators.MaxValueValidator(
                        10000, message="Enter at most 10,000 messages per second."
                    ),
                ],
            ),
        ),
        migrations.AddConstraint(
            model_name="mailing",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("rate_limit__isnull", True), ("rate_limit__lte", 10000), _connector="OR"
                ),
                name="mailing_rate_limit_at_most_max",
            ),
        ),
    ]
