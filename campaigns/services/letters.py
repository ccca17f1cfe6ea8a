"""Printing a mailing's letters (campaigns/letters.py says what a letter is). Each print is
recorded (LetterPrint: when, by whom, how many); a letter's ledger row is marked printed by the
first print that holds it and keeps that date and person, so printing again adds a print, never
a letter."""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from ..access import may_print_letters
from ..letters import labels_pdf, letters_list, letters_pdf
from ..models import Delivery, LetterPrint, Mailing

DStatus = Delivery.Status


@dataclass(frozen=True)
class Printed:
    pdf: bytes
    count: int


def _letters_for(*, mailing_id: int, user):
    """The mailing and its letters, for someone who may print them (anyone else: 403)."""
    mailing = Mailing.objects.get(pk=mailing_id)
    if not may_print_letters(user, mailing):
        raise PermissionDenied
    return mailing, letters_list(mailing)


def letters_print(*, mailing_id: int, user) -> Printed | None:
    """The PDF of all the mailing's letters, recorded as printed by `user` now; None when it
    has no letters. The PDF is made before anything is recorded, so a print that fails records
    nothing."""
    mailing, letters = _letters_for(mailing_id=mailing_id, user=user)
    if not letters:
        return None
    pdf = letters_pdf(mailing=mailing, letters=letters)
    with transaction.atomic():
        locked = Mailing.objects.select_for_update().get(pk=mailing_id)
        if not may_print_letters(user, locked):
            raise PermissionDenied
        now = timezone.now()
        LetterPrint.objects.create(
            mailing=locked, printed_at=now, printed_by=user, letters=len(letters)
        )
        Delivery.objects.filter(
            pk__in=[letter.delivery_id for letter in letters], status=DStatus.TO_PRINT
        ).update(status=DStatus.PRINTED, sent_at=now, printed_by=user)
    return Printed(pdf=pdf, count=len(letters))


def labels_print(*, mailing_id: int, user) -> Printed | None:
    """The address labels of the mailing's letters; None when it has none. Not a print of the
    letters: nothing is recorded here (the view records the download in the export log)."""
    _mailing, letters = _letters_for(mailing_id=mailing_id, user=user)
    if not letters:
        return None
    return Printed(pdf=labels_pdf(letters=letters), count=len(letters))
