"""What campaigns does when something happens elsewhere in the portal."""

from django.db.models import CharField, Value
from django.db.models.functions import Cast, Concat, Lower
from django.dispatch import receiver

from members.signals import personal_data_erased

from .models import Delivery


@receiver(personal_data_erased)
def deliveries_anonymise(sender, *, user_id, emails, **kwargs):
    """Keep the erased person's deliveries for the mailing statistics, without their address
    or the names captured for the merge fields."""
    Delivery.objects.annotate(email_lower=Lower("email")).filter(email_lower__in=emails).update(
        email=Concat(Value("erased-"), Cast("pk", CharField()), Value("@invalid")),
        context={},
        last_error="",
    )
