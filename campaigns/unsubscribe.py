"""Signed unsubscribe links. A link names its delivery (one message of a mailing to one address)
by id, with a signature that cannot be forged or altered without SECRET_KEY: it carries no
address, readable or encoded. Links do not expire: an old email's link must still work, and
links signed with a key listed in SECRET_KEY_FALLBACKS keep working after the key is rotated.

Links sent before they named deliveries carried the address and mailing themselves, signed
(`signing.dumps([email, mailing_id], salt=LEGACY_SALT)`); those are still read."""

from __future__ import annotations

from django.conf import settings
from django.core import signing
from django.urls import reverse

LINK_SALT = "campaigns.unsubscribe.delivery"
LEGACY_SALT = "campaigns.unsubscribe"
# Previews and test copies carry a link signed like the real one but with a salt of its own: it
# looks as sent, yet following it (or posting to it) unsubscribes nobody.
PREVIEW_SALT = "campaigns.unsubscribe.preview"
LEGACY_PREVIEW_SALT = PREVIEW_SALT


def unsubscribe_token(*, delivery_id: int) -> str:
    return signing.Signer(salt=LINK_SALT).sign(f"d{delivery_id}")


def unsubscribe_token_read(token: str) -> tuple[str, int | None] | None:
    """The (email, mailing id) a token was made for, or None if it is not one of ours, or its
    delivery no longer records an address (erased, or kept past DELIVERY_ADDRESS_DAYS)."""
    from .models import Delivery

    try:
        reference = signing.Signer(salt=LINK_SALT).unsign(token)
    except signing.BadSignature:
        return _legacy_token_read(token)
    if not (reference.startswith("d") and reference[1:].isdigit()):
        return None
    found = Delivery.objects.filter(pk=int(reference[1:])).exclude(email__endswith="@invalid")
    return found.values_list("email", "mailing_id").first()


def _legacy_token_read(token: str) -> tuple[str, int | None] | None:
    try:
        email, mailing_id = signing.loads(token, salt=LEGACY_SALT)
    except (signing.BadSignature, ValueError, TypeError):
        return None
    if not isinstance(email, str) or not (mailing_id is None or isinstance(mailing_id, int)):
        return None
    return email, mailing_id


def preview_token_read(token: str) -> bool:
    """Whether a token is one of a preview's or test copy's links (which unsubscribe nobody)."""
    try:
        signing.Signer(salt=PREVIEW_SALT).unsign(token)
        return True
    except signing.BadSignature:
        pass
    try:
        signing.loads(token, salt=LEGACY_PREVIEW_SALT)
    except (signing.BadSignature, ValueError, TypeError):
        return False
    return True


class UnsubscribeLinks:
    """Makes links quickly for many deliveries: the URL around the token is worked out once."""

    def __init__(self):
        marker = "TOKEN"
        path = reverse("unsubscribe", args=[marker])
        self.prefix, _, self.suffix = (settings.PORTAL_URL.rstrip("/") + path).partition(marker)
        self.mailto = settings.MAILING_UNSUBSCRIBE_MAILTO

    def url(self, *, delivery_id: int | None, mailing_id: int | None) -> str:
        return self.prefix + unsubscribe_token(delivery_id=delivery_id) + self.suffix

    def headers(self, url: str) -> dict[str, str]:
        """RFC 2369 List-Unsubscribe and RFC 8058 one-click headers."""
        targets = f"<{url}>"
        if self.mailto:
            targets += f", <mailto:{self.mailto}?subject=unsubscribe>"
        return {"List-Unsubscribe": targets, "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}


class PreviewLinks(UnsubscribeLinks):
    """Links for previews and test copies: they lead to a page saying that this was a test
    copy and nothing has changed, and the headers offer no one-click unsubscribe (and no
    mailto), so a mail client's unsubscribe button cannot suppress the person who asked for
    the copy."""

    def url(self, *, delivery_id: int | None = None, mailing_id: int | None) -> str:
        token = signing.Signer(salt=PREVIEW_SALT).sign(f"p{mailing_id or 0}")
        return self.prefix + token + self.suffix

    def headers(self, url: str) -> dict[str, str]:
        return {"List-Unsubscribe": f"<{url}>"}
