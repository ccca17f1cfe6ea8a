"""Signed unsubscribe links: the token names the address and the mailing, and cannot be forged
or altered without SECRET_KEY. Tokens do not expire: an old email's link must still work."""

from __future__ import annotations

from django.conf import settings
from django.core import signing
from django.urls import reverse

SALT = "campaigns.unsubscribe"
# Previews and test copies carry a link signed like the real one but with a salt of its own: it
# looks as sent, yet following it (or posting to it) unsubscribes nobody.
PREVIEW_SALT = "campaigns.unsubscribe.preview"


def unsubscribe_token(*, email: str, mailing_id: int | None) -> str:
    return signing.dumps([email, mailing_id], salt=SALT)


def unsubscribe_token_read(token: str) -> tuple[str, int | None] | None:
    """The (email, mailing id) a token was made for, or None if it is not one of ours."""
    try:
        email, mailing_id = signing.loads(token, salt=SALT)
    except (signing.BadSignature, ValueError, TypeError):
        return None
    if not isinstance(email, str) or not (mailing_id is None or isinstance(mailing_id, int)):
        return None
    return email, mailing_id


def preview_token_read(token: str) -> bool:
    """Whether a token is one of a preview's or test copy's links (which unsubscribe nobody)."""
    try:
        signing.loads(token, salt=PREVIEW_SALT)
    except (signing.BadSignature, ValueError, TypeError):
        return False
    return True


class UnsubscribeLinks:
    """Makes links quickly for many addresses: the URL around the token is worked out once."""

    def __init__(self):
        marker = "TOKEN"
        path = reverse("unsubscribe", args=[marker])
        self.prefix, _, self.suffix = (settings.PORTAL_URL.rstrip("/") + path).partition(marker)
        self.mailto = settings.MAILING_UNSUBSCRIBE_MAILTO

    def url(self, *, email: str, mailing_id: int | None) -> str:
        return self.prefix + unsubscribe_token(email=email, mailing_id=mailing_id) + self.suffix

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

    def url(self, *, email: str, mailing_id: int | None) -> str:
        return self.prefix + signing.dumps([email, mailing_id], salt=PREVIEW_SALT) + self.suffix

    def headers(self, url: str) -> dict[str, str]:
        return {"List-Unsubscribe": f"<{url}>"}


def unsubscribe_url(*, email: str, mailing_id: int | None) -> str:
    return UnsubscribeLinks().url(email=email, mailing_id=mailing_id)
