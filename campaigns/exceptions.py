"""Why a mailing cannot be sent, scheduled or approved as asked: each carries a message for the
person who pressed the button."""

CHANGED_MESSAGE = "The mailing changed since you opened it: check it again."


class MailingError(Exception):
    """The mailing cannot be started as it stands; the message says why."""


class EmptyAudience(MailingError):
    """The audience rule picks no address that may be written to."""

    def __init__(self):
        super().__init__("Nobody to send to: the audience has no address that may be written to.")


class MailingChanged(MailingError):
    """The mailing changed after the person pressing the button loaded the page."""

    def __init__(self):
        super().__init__(CHANGED_MESSAGE)
