"""What campaigns does when something happens elsewhere in the portal."""

from django.db import transaction
from django.db.models import CharField, Value
from django.db.models.functions import Cast, Concat, Lower
from django.db.models.signals import post_delete
from django.dispatch import receiver
from django.urls import reverse

from members.signals import home_tasks, personal_data_erased, personal_data_requested
from members.todo import COUNCILLOR, Task

from .access import campaigns_visible_to, may_compose
from .models import CampaignResource, Delivery, Suppression
from .selectors import mailing_tasks


@receiver(post_delete, sender=CampaignResource)
def resource_file_delete(sender, instance, **kwargs):
    """A deleted resource's file goes from storage too, however it was deleted (the portal,
    the admin, or with its campaign), once the deletion has committed: a rolled-back deletion
    keeps its file."""
    stored = instance.file
    if stored:
        name, storage = stored.name, stored.storage
        transaction.on_commit(lambda: storage.delete(name))


@receiver(personal_data_erased)
@transaction.atomic
def deliveries_anonymise(sender, *, user_id, emails, **kwargs):
    """Keep the erased person's deliveries for the mailing statistics, without their address
    or the names captured for the merge fields. Messages not yet sent to them are cancelled
    (as cancelling a mailing does), so no worker goes on to send them; a worker checks that
    a claimed row is still claimed before each message."""
    theirs = Delivery.objects.annotate(email_lower=Lower("email")).filter(email_lower__in=emails)
    theirs.filter(status__in=(Delivery.Status.PENDING, Delivery.Status.CLAIMED)).update(
        status=Delivery.Status.CANCELLED
    )
    theirs.update(
        email=Concat(Value("erased-"), Cast("pk", CharField()), Value("@invalid")),
        context={},
        last_error="",
    )


@receiver(personal_data_requested)
def deliveries_and_suppressions_for_person(sender, *, user_id, emails, **kwargs):
    """The mail the portal sent (or tried to send) to the person, and any suppression of
    their addresses, for their "download my data"."""
    deliveries = (
        Delivery.objects.annotate(email_lower=Lower("email"))
        .filter(email_lower__in=emails)
        .select_related("mailing")
        .order_by("mailing_id", "pk")
    )
    suppressions = (
        Suppression.objects.annotate(email_lower=Lower("email"))
        .filter(email_lower__in=emails)
        .order_by("created_at")
    )
    return {
        "mailing_deliveries": [
            {
                "mailing": d.mailing.subject,
                "email": d.email,
                "status": d.status,
                "attempts": d.attempts,
                "sent_at": d.sent_at.isoformat() if d.sent_at else None,
                "last_error": d.last_error,
                "merge_values": d.context,
            }
            for d in deliveries
        ],
        "suppressions": [
            {
                "email": s.email,
                "reason": s.reason,
                "created_at": s.created_at.isoformat(),
                "note": s.note,
            }
            for s in suppressions
        ],
    }


@receiver(home_tasks, dispatch_uid="campaigns-home-tasks")
def home_mailing_tasks(sender, *, user, **kwargs):
    """Staff and representatives: mailings waiting for approval, scheduled, sending or with
    failed messages (and for staff the week's hard bounces). Councillors: the campaigns they
    can take up. Each counted as the list it links to shows it."""
    if may_compose(user):
        return mailing_tasks(user)
    if not user.is_councillor:
        return []
    campaigns = campaigns_visible_to(user)
    return [
        Task(
            campaigns.count(),
            "campaign for your group to take up",
            "campaigns for your group to take up",
            url=reverse("campaigns:campaigns"),
            none="No campaigns are running just now.",
            role=COUNCILLOR,
        )
    ]
