"""Helpers for browser tests."""

from factories import TOTP_SECRET, totp_code


def log_in(page, email, password, *, totp_secret=TOTP_SECRET):
    """Log in through the real login form, giving a two-factor code when asked for one."""
    page.goto("/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign In").click()
    page.wait_for_load_state()
    if "/accounts/2fa/authenticate/" in page.url:
        page.get_by_label("Code").fill(totp_code(totp_secret))
        page.get_by_role("button", name="Sign In").click()
        page.wait_for_load_state()
