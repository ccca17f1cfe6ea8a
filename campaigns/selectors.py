"""Reads for the mailing pages and their scripts: a mailing's progress, the composer's audience
panel, how fast it may go, the list's counts, and the preview's choice of recipient. Each makes
a fixed number of queries, whatever the audience's size."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone

from members.models import User
from members.todo import REPRESENTATIVE, STAFF, Task
from regions.models import Council, SubqueryCount

from .access import is_staff, mailings_visible_to, suppressions_visible_to
from .audience import Audience, Recipient, audience_recorded, audience_resolve, missing_values
from .models import Delivery, Mailing, Suppression
from .rendering import SAMPLE_CONTEXT, fields_needing_values, render_message, subject_title
from .services.report import mailings_filter_approval
from .unsubscribe import PreviewLinks

DStatus = Delivery.Status
# Groups without an address listed in full before "and N more".
GROUPS_SHOWN = 50
# Recipients offered at once in the preview's chooser; a search finds any of the others.
PREVIEW_CHOICES = 100
SEARCH_MAX_LENGTH = 200
# The sending rate shown while a mailing goes out is over this many seconds.
RATE_WINDOW = 10
# Times on the progress pages are 24-hour, as elsewhere in the portal.
TIME_FORMAT = "%-d %B %Y, %H:%M"


# --- progress --------------------------------------------------------------------------------


def mailing_progress(mailing: Mailing) -> dict:
    """The mailing's deliveries counted by status, and `done`: those no longer waiting, whether
    sent, failed, suppressed or cancelled. Progress bars fill with `done` out of `total`, so
    they reach the end when nothing is left to send, whatever became of each message."""
    counts = dict(
        Delivery.objects.filter(mailing_id=mailing.pk, channel=Delivery.Channel.EMAIL)
        .values_list("status")
        .annotate(n=Count("pk"))
        .values_list("status", "n")
    )
    recent = Delivery.objects.filter(
        mailing_id=mailing.pk,
        status=DStatus.SENT,
        sent_at__gte=timezone.now() - timedelta(seconds=RATE_WINDOW),
    ).count()
    pending = counts.get(DStatus.PENDING, 0) + counts.get(DStatus.CLAIMED, 0)
    total = sum(counts.values())
    return {
        "status": mailing.status,
        "status_label": mailing.get_status_display(),
        "sent": counts.get(DStatus.SENT, 0),
        "failed": counts.get(DStatus.FAILED, 0),
        "pending": pending,
        "suppressed": counts.get(DStatus.SUPPRESSED, 0),
        "cancelled": counts.get(DStatus.CANCELLED, 0),
        "total": total,
        "done": total - pending,
        "rate_per_second": round(recent / RATE_WINDOW, 1),
    }


def _when(moment) -> str:
    return timezone.localtime(moment).strftime(TIME_FORMAT) if moment else ""


def mailing_progress_shown(mailing: Mailing) -> dict:
    """The progress counts as the mailing's pages and their script show them. Once finished,
    the rate is the whole mailing's average (messages sent over the time it took) rather than
    the last few seconds', which would read 0; `finished` and `finished_at` let the script
    take the page out of its sending state when the mailing finishes while watched."""
    progress = mailing_progress(mailing)
    finished = mailing.is_finished
    progress["finished"] = finished
    progress["started_at"] = _when(mailing.started_at)
    progress["finished_at"] = _when(mailing.finished_at) if finished else ""
    progress["rate_label"] = "Messages per second"
    progress["rate_intro"] = "Sending rate over the last few seconds"
    if finished:
        progress["rate_label"] = "Average messages per second"
        progress["rate_intro"] = "Average sending rate"
        if mailing.started_at and mailing.finished_at:
            elapsed = (mailing.finished_at - mailing.started_at).total_seconds()
            progress["rate_per_second"] = round(progress["sent"] / max(elapsed, 1.0), 1)
    return progress


def mailings_for_list(mailings) -> list[Mailing]:
    """The mailings with their subject as a title and their sent and failed counts (`counts`,
    None before sending), counted for these mailings only, in one query."""
    mailings = list(mailings)
    counts = {
        row["mailing_id"]: row
        for row in Delivery.objects.filter(mailing__in=[m.pk for m in mailings])
        .values("mailing_id")
        .annotate(
            sent=Count("pk", filter=Q(status=DStatus.SENT)),
            failed=Count("pk", filter=Q(status=DStatus.FAILED)),
        )
    }
    for mailing in mailings:
        mailing.title = subject_title(mailing.subject)
        mailing.counts = counts.get(mailing.pk)
    return mailings


def report_addresses(deliveries, status: str):
    """The addresses that ended in `status`, as the report lists them."""
    return (
        deliveries.filter(status=status)
        .order_by("email", "pk")
        .values("email", "attempts", "last_error", "group__name", "group__council__name")
    )


# --- what the mailing's pages say about it ----------------------------------------------------


def audience_summary(audience: Audience, *, user, fields=()) -> dict:
    """The composer's audience panel. The suppression list is staff-only: others get its size.
    `fields` are the merge fields the message uses without a default; for each, how many
    recipients have no value (a gap in their message)."""
    by_post = {letter.group_id for letter in audience.letters}
    summary = {
        "count": audience.count,
        "suppressed_count": len(audience.suppressed),
        # The groups the rule picks, and those of them that get nothing (no usable address).
        "group_count": audience.group_count,
        "groups_without_address_count": len(audience.groups_without_address),
        # Of those, the groups with a postal address get a letter; the others get nothing.
        "letter_count": len(audience.letters),
        "unreachable_count": len(audience.groups_without_address) - len(audience.letters),
        "groups_without_address": [
            {"id": pk, "name": name, "council": council, "by_post": pk in by_post}
            for pk, name, council in audience.groups_without_address
        ],
        "groups_shown": GROUPS_SHOWN,
        "missing": missing_report(audience, fields),
        # Set for an audience of people by their booking on an event: who they are.
        "people": audience.people,
    }
    if is_staff(user):
        summary["suppressed"] = audience.suppressed
    return summary


def missing_report(audience: Audience, fields) -> list[dict]:
    """[{"field": "election.date", "count": 14, "message": "14 recipients have no ..."}]."""
    report = []
    for field, count in missing_values(audience.recipients, fields).items():
        people = "1 recipient has" if count == 1 else f"{count} recipients have"
        report.append(
            {
                "field": field,
                "count": count,
                "message": f'{people} no {field} — add |default:"..." or narrow the audience',
            }
        )
    return report


def rate_limit_text(mailing: Mailing) -> str:
    """How fast this mailing may go: its own limit, or the portal-wide one, whichever is lower."""
    portal = getattr(settings, "MAILING_RATE_LIMIT", None) or None
    own = mailing.rate_limit

    def per_second(rate) -> str:
        number = f"{rate:,.2f}".rstrip("0").rstrip(".") if rate >= 1 else f"{rate:.3g}"
        return f"{number} message{'' if number == '1' else 's'} per second"

    if own and portal and portal < own:
        return (
            f"{per_second(own)} set for this mailing; the portal-wide limit of "
            f"{per_second(portal)} applies"
        )
    if own:
        return f"At most {per_second(own)} (set for this mailing)"
    if portal:
        return f"At most {per_second(portal)} (the portal-wide limit)"
    return "No limit: as fast as the mail server accepts"


def mailing_facts(mailing: Mailing) -> dict:
    """Its title, and its audience rule as people read it."""
    recipients = dict(Mailing.Recipients.choices)
    kinds = dict(Council.Kind.choices)
    return {
        "mailing": mailing,
        "title": subject_title(mailing.subject),
        "regions": mailing.regions.all(),
        "recipient_labels": [recipients.get(v, v) for v in mailing.recipients or ()],
        "event_audience_label": mailing.get_event_audience_display(),
        "council_kind_labels": [kinds.get(v, v) for v in mailing.council_kinds or ()],
    }


def mailing_overview(mailing: Mailing, *, user) -> dict:
    """What the mailing's page shows of it: its facts, and who gets it: before sending, its
    audience as the rule picks it today; once sending has begun, the recorded deliveries and
    what became of them."""
    began = mailing.sending_began
    progress = mailing_progress_shown(mailing) if began else None
    audience = None
    if not began:
        audience = audience_summary(
            audience_resolve(mailing),
            user=user,
            fields=fields_needing_values(mailing.subject, mailing.body),
        )
    return {
        **mailing_facts(mailing),
        "audience": audience,
        "rate_limit": rate_limit_text(mailing),
        "started": began,
        "progress": progress,
        "recorded_count": progress["total"] - progress["suppressed"] if began else None,
    }


def send_confirmation(mailing: Mailing) -> dict:
    """The step between Send now and sending: what goes to how many."""
    audience = audience_resolve(mailing)
    return {
        **mailing_facts(mailing),
        "count": audience.count,
        "suppressed_count": len(audience.suppressed),
        "group_count": audience.group_count,
        "groups_without_address_count": len(audience.groups_without_address),
        "letter_count": len(audience.letters),
        "unreachable_count": len(audience.groups_without_address) - len(audience.letters),
    }


# --- the preview ------------------------------------------------------------------------------


def _matches(recipient: Recipient, words: list[str]) -> bool:
    """Whether every word of a search appears in the recipient's name, address, group or
    council (case-insensitively)."""
    context = recipient.context
    haystack = " ".join(
        (
            recipient.email,
            str(context.get("recipient", {}).get("full_name", "")),
            str(context.get("group", {}).get("name", "")),
            str(context.get("council", {}).get("name", "")),
        )
    ).lower()
    return all(word in haystack for word in words)


def preview_choice(audience: Audience, *, query: str = "", chosen: str = "") -> dict:
    """The recipient to preview and what the chooser offers.

    The whole audience is resolved anyway (a fixed number of queries), so searching it is a
    filter in memory: any recipient can be found, however large the audience. The recipient
    `chosen` (an address) wins; otherwise the first match of the search `query`, or the first
    recipient.
    """
    query = " ".join(query.split())[:SEARCH_MAX_LENGTH]
    words = query.lower().split()
    everyone = audience.recipients
    matches = [r for r in everyone if _matches(r, words)] if words else everyone
    chosen = chosen.strip().lower()
    recipient = next((r for r in everyone if r.email == chosen), None) if chosen else None
    if recipient is None:
        recipient = (matches or everyone or [None])[0]
    options = matches[:PREVIEW_CHOICES]
    if recipient is not None and all(r.email != recipient.email for r in options):
        options = [recipient, *options]
    return {
        "query": query,
        "recipient": recipient,
        "options": options,
        "match_count": len(matches),
        "unlisted": max(0, len(matches) - PREVIEW_CHOICES),
    }


def preview_audience(mailing: Mailing) -> tuple[Audience, bool]:
    """Who the preview and test send choose from, and whether they are the recorded ones: once
    sending has begun, its deliveries with the values they were sent with; before, today's
    rule."""
    if mailing.deliveries.exists():
        return audience_recorded(mailing), True
    return audience_resolve(mailing), False


def preview_recipient(mailing: Mailing, *, query: str = "", chosen: str = "") -> Recipient | None:
    """The recipient the preview shows (see preview_choice), or None for an empty audience."""
    return preview_choice(preview_audience(mailing)[0], query=query, chosen=chosen)["recipient"]


def merge_values(recipient: Recipient | None) -> dict:
    """The merge values as sent to this recipient; example values when there is nobody."""
    return recipient.context if recipient else SAMPLE_CONTEXT


def _preview_rendered(mailing: Mailing, recipient: Recipient | None):
    """The message as sent to this recipient, with an unsubscribe link for the footer that
    looks real but unsubscribes nobody."""
    context = {
        **merge_values(recipient),
        "unsubscribe_url": PreviewLinks().url(mailing_id=mailing.pk),
    }
    return render_message(subject=mailing.subject, body=mailing.body, context=context)


def preview_page(mailing: Mailing, *, query: str = "", chosen: str = "") -> dict:
    """The preview page: the message as sent to one recipient, the chooser, and the gaps."""
    audience, recorded = preview_audience(mailing)
    choice = preview_choice(audience, query=query, chosen=chosen)
    return {
        "mailing": mailing,
        "audience_count": audience.count,
        "missing": missing_report(audience, fields_needing_values(mailing.subject, mailing.body)),
        "recorded": recorded,
        "rendered": _preview_rendered(mailing, choice["recipient"]),
        **choice,
    }


def preview_html(mailing: Mailing, *, query: str = "", chosen: str = "") -> str:
    """The HTML version of the message as the preview shows it."""
    recipient = preview_recipient(mailing, query=query, chosen=chosen)
    return _preview_rendered(mailing, recipient).html


# The suppression list's filter for the hard bounces of the last week, and its length in days.
RECENT_BOUNCES = "bounced-this-week"
RECENT_BOUNCE_DAYS = 7


def suppressions_listed(user, *, query: str = "", recent_bounces: bool = False):
    """The suppression list as the person may read it, newest first: the addresses containing
    `query`, and with `recent_bounces` only the hard bounces of the last week."""
    suppressions = suppressions_visible_to(user).order_by("-created_at", "pk")
    if query:
        suppressions = suppressions.filter(email__icontains=query)
    if recent_bounces:
        since = timezone.now() - timedelta(days=RECENT_BOUNCE_DAYS)
        suppressions = suppressions.filter(
            reason=Suppression.Reason.HARD_BOUNCE, created_at__gte=since
        )
    return suppressions


# What the home page says of each of the mailing list's filters: (one, many, when none).
MAILING_TASKS = {
    "awaiting": (
        "mailing awaits approval",
        "mailings await approval",
        "No mailings await approval.",
    ),
    "scheduled": ("mailing is scheduled", "mailings are scheduled", "No mailings are scheduled."),
    "sending": (
        "mailing is sending or paused",
        "mailings are sending or paused",
        "No mailings are sending.",
    ),
    "failed": (
        "mailing has messages that failed",
        "mailings have messages that failed",
        "No mailing has failed messages.",
    ),
}


def mailing_tasks(user) -> list[Task]:
    """The mailings a composer can act on, counted (in one query) by the mailing list's own
    filters; for staff also the week's hard bounces, counted as the suppression list shows."""
    mailings = mailings_visible_to(user)
    counts = {
        show: SubqueryCount(mailings_filter_approval(mailings, show)) for show in MAILING_TASKS
    }
    staff = is_staff(user)
    if staff:
        counts["bounced"] = SubqueryCount(suppressions_listed(user, recent_bounces=True))
    figures = User.objects.filter(pk=user.pk).values(**counts).get()
    role = STAFF if staff else REPRESENTATIVE
    list_url = reverse("campaigns:mailings")
    tasks = [
        Task(figures[show], one, many, url=f"{list_url}?show={show}", none=none, role=role)
        for show, (one, many, none) in MAILING_TASKS.items()
    ]
    if staff:
        tasks.append(
            Task(
                figures["bounced"],
                "address hard bounced in the last 7 days",
                "addresses hard bounced in the last 7 days",
                url=f"{reverse('campaigns:suppressions')}?show={RECENT_BOUNCES}",
                none="No address hard bounced in the last 7 days.",
                role=role,
            )
        )
    return tasks
