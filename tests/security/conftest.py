"""Fixtures shared by the attack tests."""

import pytest

from alc_portal.mailcatcher import SmtpCatcher


@pytest.fixture
def smtp_server(settings):
    """A real SMTP server on loopback that the test's own requests send their mail to."""
    catcher = SmtpCatcher(host="127.0.0.1", port=0)
    catcher.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = catcher.host
    settings.EMAIL_PORT = catcher.port
    yield catcher
    catcher.stop()
