"""Letters by post for the Labour groups a mailing cannot email: reading them, and making their
PDFs.

When a mailing starts, each group the audience picks that has no usable email address (none the
mailing would use, or every one suppressed) but has a postal address gets one letter row in the
delivery ledger (Delivery, by post), holding the merge values and the address as they were then.
A letter is the mailing's own message, rendered as the email is (the same merge fields and body,
campaigns.rendering), on the association's letterhead, with the group's address where the left
window of a DL or C5 envelope shows it: 20 mm from the left edge, 47 mm from the top, inside the
usual 90 x 35 mm window (windows sit 45-50 mm down). The labels are an A4 sheet of 21 (3 x 7,
70 x 42.3 mm with no gaps, a common stationery size), one per letter.

WeasyPrint makes the PDFs from HTML with the letter's own CSS (never served to a browser, so the
pages' content security policy does not apply), in DejaVu fonts from Debian; it fetches nothing:
every URL it would load is refused. 300 letters take about 13 seconds, their labels about 3,
so both are plain downloads rather than background jobs.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.template.loader import render_to_string
from django.utils import dateformat, timezone
from django.utils.safestring import mark_safe

from members.selectors import national_office_email

from .models import Delivery, LetterPrint, Mailing
from .rendering import render_message

DStatus = Delivery.Status
LETTERS_TEMPLATE = "campaigns/letters/letters.html"
LABELS_TEMPLATE = "campaigns/letters/labels.html"
LABELS_PER_SHEET = 21


@dataclass(frozen=True)
class Letter:
    delivery_id: int
    group: str
    council: str
    region: str
    address: list[str]
    context: dict


def address_lines(postal_address: str) -> list[str]:
    """A postal address as the lines of an envelope: its own lines, or, written on one line,
    its comma-separated parts."""
    lines = [line.strip(" ,") for line in postal_address.splitlines()]
    lines = [line for line in lines if line]
    if len(lines) == 1 and "," in lines[0]:
        lines = [part.strip() for part in lines[0].split(",") if part.strip()]
    return lines


def letters_of(mailing: Mailing):
    """The mailing's letters in the ledger, by region, council and group (one query)."""
    return (
        Delivery.objects.filter(mailing=mailing, channel=Delivery.Channel.POST)
        .order_by("group__council__region__name", "group__council__name", "context__group__name")
        .select_related("group__council__region")
    )


def letters_list(mailing: Mailing) -> list[Letter]:
    letters = []
    for row in letters_of(mailing):
        context = row.context or {}
        group = context.get("group", {}).get("name", "")
        letters.append(
            Letter(
                delivery_id=row.pk,
                group=group,
                council=context.get("council", {}).get("name", ""),
                region=context.get("region", {}).get("name", ""),
                address=[group, *address_lines(context.get("postal_address", ""))],
                context=context,
            )
        )
    return letters


def letters_overview(mailing: Mailing) -> dict:
    """What the sending page says about the mailing's letters: how many, how many printed,
    every print (when and by whom), and the groups reached neither by email nor by post."""
    counts = {DStatus.TO_PRINT: 0, DStatus.PRINTED: 0}
    posted = set()
    for status, group_id in letters_of(mailing).values_list("status", "group_id"):
        counts[status] = counts.get(status, 0) + 1
        posted.add(group_id)
    unreachable = [g for g in mailing.groups_without_address or () if g.get("id") not in posted]
    return {
        "letter_count": sum(counts.values()),
        "to_print": counts[DStatus.TO_PRINT],
        "printed": counts[DStatus.PRINTED],
        "prints": LetterPrint.objects.filter(mailing=mailing).select_related("printed_by"),
        "unreachable": unreachable,
    }


def _refuse_fetch(url, *args, **kwargs):
    raise ValueError(f"Letters load nothing from outside: {url}")


def _pdf(page: str) -> bytes:
    from weasyprint import HTML  # imported when printing, so that pages load without Pango

    return HTML(string=page, url_fetcher=_refuse_fetch).write_pdf()


def letters_pdf(*, mailing: Mailing, letters: list[Letter], today=None) -> bytes:
    """One PDF, one letter (starting on a new page) per group."""
    day = dateformat.format(today or timezone.localdate(), "j F Y")
    pages = []
    for letter in letters:
        rendered = render_message(
            subject=mailing.subject, body=mailing.body, context=letter.context
        )
        # The content is nh3-sanitised Markdown with escaped merge values (campaigns.rendering).
        content = mark_safe(rendered.content)  # noqa: S308
        pages.append({"letter": letter, "subject": rendered.subject, "content": content})
    page = render_to_string(
        LETTERS_TEMPLATE,
        {
            "pages": pages,
            "date": day,
            "from_name": mailing.from_name,
            "office": national_office_email(),
        },
    )
    return _pdf(page)


def labels_pdf(*, letters: list[Letter]) -> bytes:
    """Address labels, one per letter, 21 to an A4 sheet."""
    return _pdf(render_to_string(LABELS_TEMPLATE, {"letters": letters}))
