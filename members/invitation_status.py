"""Whether each councillor has signed in yet, shown to whoever manages them: signed in (and
when last), invited and the link still working, the invitation expired, or never invited. With
the invitations sent again in bulk (services.invitations.invitations_resend), the way to bring
everyone an import added onto the portal."""

import dataclasses

from django.db.models import Max
from django.utils import timezone
from django.utils.dateformat import format as date_format

from members.models import Decision, JoinRequest
from members.services.invitations import invitation_expires, invitation_pending


@dataclasses.dataclass(frozen=True)
class AccountStatus:
    text: str
    # Not yet signed in: counted among those an invitation may go to again.
    waiting: bool


def _day(moment) -> str:
    return date_format(timezone.localtime(moment), "j F Y")


def account_statuses(councillors) -> dict[int, AccountStatus]:
    """Each councillor's (by id) account status; their `user` must be loaded. One query."""
    emails = [c.user.email for c in councillors]
    invited = dict(
        JoinRequest.objects.filter(
            email__in=emails, status=Decision.APPROVED, invited_at__isnull=False
        )
        .values("email")
        .annotate(last=Max("invited_at"))
        .values_list("email", "last")
    )
    now = timezone.now()
    statuses = {}
    for councillor in councillors:
        user = councillor.user
        sent = invited.get(user.email)
        if not invitation_pending(user):
            when = f": last signed in {_day(user.last_login)}" if user.last_login else ""
            status = AccountStatus(f"Signed in{when}", waiting=False)
        elif sent is None:
            status = AccountStatus("Not yet invited", waiting=True)
        elif invitation_expires(sent) > now:
            status = AccountStatus(
                f"Invited on {_day(sent)}; the link works until {_day(invitation_expires(sent))}",
                waiting=True,
            )
        else:
            status = AccountStatus(f"Invitation expired (sent {_day(sent)})", waiting=True)
        statuses[councillor.pk] = status
    return statuses
