"""What each kind of object is found by: an unsaved SearchEntry made from the object, read
from plain fields only (so the rebuild can run in a migration, on the historical models).

People are found by their name and preferred name, their ward, and (by those who may open
their profile) their email address and phone number; councils by official name, short name
and GSS code; Labour groups by name and their council's names; mailings by subject; campaigns
by title.
"""

from search.models import SearchEntry
from search.text import email_tokens, name_tokens, phone_tokens, typo_keys, typo_words

Kind = SearchEntry.Kind


def _joined(tokens) -> str:
    return " ".join(dict.fromkeys(tokens))


def _keys(*texts: str) -> list[str]:
    keys = set()
    for text in texts:
        for word in typo_words(text):
            keys |= typo_keys(word)
    return sorted(keys)


def _names(*texts: str) -> list[str]:
    return [token for text in texts for token in name_tokens(text)]


def person_entry(user, councillor) -> SearchEntry:
    """A person: `councillor` is their councillor profile (with its council), or None."""
    names = (user.full_name, user.preferred_name)
    ward = councillor.ward if councillor else ""
    phone = councillor.phone if councillor else ""
    return SearchEntry(
        kind=Kind.PERSON,
        object_id=user.pk,
        region_id=councillor.council.region_id if councillor else None,
        current=councillor is not None and councillor.left_on is None,
        names=_joined(_names(*names)),
        details=_joined(_names(ward)),
        contacts=_joined([*email_tokens(user.email), *phone_tokens(phone)]),
        typo_keys=_keys(*names),
    )


def council_entry(council, today) -> SearchEntry:
    names = (council.name, council.short_name, council.gss_code)
    return SearchEntry(
        kind=Kind.COUNCIL,
        object_id=council.pk,
        region_id=council.region_id,
        current=council.end_date is None or council.end_date >= today,
        names=_joined(_names(*names)),
        typo_keys=_keys(council.name, council.short_name),
    )


def group_entry(group) -> SearchEntry:
    council = group.council
    return SearchEntry(
        kind=Kind.GROUP,
        object_id=group.pk,
        region_id=council.region_id,
        names=_joined(_names(group.name)),
        details=_joined(_names(council.name, council.short_name)),
        typo_keys=_keys(group.name, council.short_name),
    )


def mailing_entry(mailing) -> SearchEntry:
    return SearchEntry(
        kind=Kind.MAILING,
        object_id=mailing.pk,
        region_id=mailing.owner_region_id,
        names=_joined(_names(mailing.subject)),
        typo_keys=_keys(mailing.subject),
    )


def campaign_entry(campaign) -> SearchEntry:
    return SearchEntry(
        kind=Kind.CAMPAIGN,
        object_id=campaign.pk,
        names=_joined(_names(campaign.title)),
        typo_keys=_keys(campaign.title),
    )
