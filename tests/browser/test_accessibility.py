"""Every page a person can reach passes axe-core, at desktop and phone widths."""

import re
from urllib.parse import urlsplit

import pytest
from accessibility import assert_accessible
from browsing import log_in
from django import urls
from django.core.management import call_command
from factories import (
    PASSWORD,
    TOTP_SECRET,
    CouncilFactory,
    CouncillorFactory,
    RegionFactory,
    RepresentativeFactory,
    StaffFactory,
    TwoFactorUserFactory,
    UserFactory,
)
from polling import wait_for

from alc_portal.mailcatcher import SmtpCatcher
from campaigns.models import Mailing
from members.management.commands.demo_data import DEMO_PASSWORD, DEMO_TOTP_SECRET
from members.services import councillor_imports, invitations

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def demo(gb_councils):
    call_command("demo_data", verbosity=0)


@pytest.mark.parametrize("width", [1280, 320])
def test_login_pages_are_accessible(page, width):
    page.set_viewport_size({"width": width, "height": 800})
    for path in ["/accounts/login/", "/accounts/login/code/", "/accounts/password/reset/"]:
        page.goto(path)
        assert_accessible(page)


@pytest.mark.parametrize("width", [1280, 320])
def test_role_home_pages_are_accessible(demo, page, width):
    page.set_viewport_size({"width": width, "height": 800})
    for email, paths in [
        ("councillor@demo.alc.example.org", ["/", "/regions/london/"]),
        ("rep.wales@demo.alc.example.org", ["/", "/regions/wales/", "/regions/councils/cardiff/"]),
        ("staff@demo.alc.example.org", ["/"]),
    ]:
        page.context.clear_cookies()
        log_in(page, email, DEMO_PASSWORD, totp_secret=DEMO_TOTP_SECRET)
        for path in paths:
            page.goto(path)
            assert page.url.endswith(path), f"{email} was sent to {page.url} instead of {path}"
            assert_accessible(page)
            # Nothing is wider than the screen: a phone never scrolls sideways.
            assert page.evaluate("document.documentElement.scrollWidth") <= width


def test_skip_link_is_first_and_moves_focus_to_main(page):
    page.goto("/accounts/login/")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to main content")
    assert skip.evaluate("el => el === document.activeElement")
    assert skip.is_visible()
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"


@pytest.mark.parametrize(
    ("button", "link"), [("Menu", "My region"), ("Account", "My profile")], ids=["menu", "account"]
)
def test_each_menu_folds_behind_a_button_on_a_phone_and_opens_by_keyboard(demo, page, button, link):
    page.set_viewport_size({"width": 320, "height": 700})
    log_in(page, "councillor@demo.alc.example.org", DEMO_PASSWORD)
    menu = page.get_by_role("button", name=button, exact=True)
    menu_link = page.get_by_role("link", name=link)
    assert menu.get_attribute("aria-expanded") == "false"
    assert not menu_link.is_visible()

    menu.focus()
    page.keyboard.press("Enter")
    assert menu.get_attribute("aria-expanded") == "true"
    assert menu_link.is_visible()
    assert_accessible(page)
    assert page.evaluate("document.documentElement.scrollWidth") <= 320

    page.set_viewport_size({"width": 1280, "height": 800})
    assert not menu.is_visible()
    assert menu_link.is_visible()


# Pages no crawl reaches: error pages, the steps of signing in and resetting a password, and the
# pages behind emailed or one-off links.


def _server_error(request):
    raise RuntimeError("A fault in a view, to show the server error page.")


# Used as ROOT_URLCONF by the server error test: the portal's own URLs plus one that fails.
urlpatterns = [
    urls.path("server-error-probe/", _server_error),
    urls.path("", urls.include("alc_portal.urls")),
]


@pytest.fixture
def smtp_server(settings):
    """A real SMTP server on loopback that the live server's mail goes to."""
    catcher = SmtpCatcher(host="127.0.0.1", port=0).start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = catcher.host, catcher.port
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    yield catcher
    catcher.stop()


def _message_to(catcher, address):
    wait_for(lambda: any(m["To"] == address for m in catcher.messages), timeout=10)
    [message] = [m for m in catcher.messages if m["To"] == address]
    return message.get_body(preferencelist=("plain",)).get_content()


def _submit(page, button_name):
    page.get_by_role("button", name=button_name).click()
    page.wait_for_load_state()


def _check_here(page, expected_path):
    """The browser is on expected_path, which passes axe-core and fits the screen's width."""
    assert urlsplit(page.url).path == expected_path, f"expected {expected_path}, at {page.url}"
    assert_accessible(page)
    assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]


def _goto_and_check(page, path, *, status=200):
    response = page.goto(path)
    assert response.status == status, f"{path} answered {response.status}"
    _check_here(page, path)


@pytest.mark.parametrize("width", [1280, 320])
def test_error_pages_are_accessible(page, settings, width):
    page.set_viewport_size({"width": width, "height": 800})
    _goto_and_check(page, "/no-such-page/", status=404)
    assert page.get_by_role("heading", level=1).inner_text() == "Page not found"

    # The real server error page, as production shows it: DEBUG off, Django's handler500.
    settings.DEBUG = False
    settings.ROOT_URLCONF = __name__
    _goto_and_check(page, "/server-error-probe/", status=500)
    assert page.get_by_role("heading", level=1).inner_text() == "Something went wrong"

    # A councillor may not manage join requests: refused, not hidden.
    CouncillorFactory(user__email="cllr@example.org")
    log_in(page, "cllr@example.org", PASSWORD)
    _goto_and_check(page, "/join-requests/", status=403)
    assert page.get_by_role("heading", level=1).inner_text() == "You can't do that here"


@pytest.mark.parametrize("width", [1280, 320])
def test_sign_in_steps_are_accessible(page, smtp_server, width):
    page.set_viewport_size({"width": width, "height": 800})
    CouncillorFactory(user__email="cllr@example.org")
    TwoFactorUserFactory(email="enrolled@example.org")

    # Signing in with an emailed code: the page that asks for the code.
    page.goto("/accounts/login/code/")
    page.get_by_label("Email").fill("cllr@example.org")
    _submit(page, "Request Code")
    _check_here(page, "/accounts/login/code/confirm/")
    assert re.search(
        r"^\s*[A-Z0-9]{3,}-?[A-Z0-9]*\s*$", _message_to(smtp_server, "cllr@example.org"), re.M
    )

    # The second step for someone enrolled in two-factor authentication.
    page.context.clear_cookies()
    page.goto("/accounts/login/")
    page.get_by_label("Email").fill("enrolled@example.org")
    page.get_by_label("Password").fill(PASSWORD)
    _submit(page, "Sign In")
    _check_here(page, "/accounts/2fa/authenticate/")

    # Someone without two-factor authentication turning it on, confirming their password first
    # if asked, then changing their password.
    page.context.clear_cookies()
    log_in(page, "cllr@example.org", PASSWORD)
    page.goto("/accounts/2fa/totp/activate/")
    if urlsplit(page.url).path == "/accounts/reauthenticate/":
        assert_accessible(page)
        page.get_by_label("Password").fill(PASSWORD)
        _submit(page, "Confirm")
    _check_here(page, "/accounts/2fa/totp/activate/")
    _goto_and_check(page, "/accounts/password/change/")


@pytest.mark.parametrize("width", [1280, 320])
def test_password_reset_pages_are_accessible(page, smtp_server, width):
    page.set_viewport_size({"width": width, "height": 800})
    alice = UserFactory(email="alice@example.org")

    page.goto("/accounts/password/reset/")
    page.get_by_label("Email").fill("alice@example.org")
    _submit(page, "Reset My Password")
    _check_here(page, "/accounts/password/reset/done/")

    # The link in the real email, followed as the person would.
    body = _message_to(smtp_server, "alice@example.org")
    link = re.search(r"https?://\S+?(/accounts/password/reset/key/\S+)", body).group(1)
    page.goto(link)
    assert "/accounts/password/reset/key/" in page.url
    assert_accessible(page)
    new_password = "a-brand-new-password-77"
    page.locator("input[name=password1]").fill(new_password)
    page.locator("input[name=password2]").fill(new_password)
    _submit(page, "Change Password")
    _check_here(page, "/accounts/password/reset/key/done/")
    alice.refresh_from_db()
    assert alice.check_password(new_password)


@pytest.mark.parametrize("width", [1280, 320])
def test_joining_and_unsubscribe_pages_are_accessible(page, width):
    page.set_viewport_size({"width": width, "height": 800})
    invited = UserFactory(email="invited@example.org", password=None, verified=False)

    _goto_and_check(page, "/join/thanks/")
    _goto_and_check(page, urlsplit(invitations.invitation_link(invited)).path)
    assert page.get_by_label("New password", exact=True).is_visible()
    _goto_and_check(page, "/invitation/MQ/not-a-token/", status=400)
    _goto_and_check(page, "/unsubscribe/not-a-token/", status=400)


@pytest.mark.parametrize("width", [1280, 320])
def test_import_detail_pages_are_accessible(page, width):
    page.set_viewport_size({"width": width, "height": 800})
    region = RegionFactory(name="Region X", slug="region-x")
    CouncilFactory(region=region, name="Oakfield Borough Council", gss_code="E0600001")
    rep = RepresentativeFactory(region=region).user
    header = "full_name,email,council,ward,phone\n"
    good = "Ada Lovelace,ada@example.org,E0600001,North Ward,020 7946 0000\n"
    bad = (
        "Nobody Known,unknown@example.org,Nowhere Council,Ward,\n"
        "Bad Email,not-an-email,E0600001,Ward,\n"
        "<script>alert(1)</script>,script@example.org,E0600001,Ward,call me maybe\n"
    )
    imports = [
        councillor_imports.councillor_import_preview(
            region=region, uploaded_by=rep, filename=name, raw=text.encode()
        )
        for name, text in [("good.csv", header + good), ("mixed.csv", header + good + bad)]
    ]

    log_in(page, rep.email, PASSWORD, totp_secret=TOTP_SECRET)
    for councillor_import in imports:
        _goto_and_check(page, f"/imports/{councillor_import.pk}/")
    assert page.get_by_text("<script>alert(1)</script>").count() >= 1


# Keyboard use of the two longest forms.

# What the keyboard user is on: where it is, and how its focus shows.
FOCUSED = """() => {
    const el = document.activeElement;
    const box = el.getBoundingClientRect();
    const style = getComputedStyle(el);
    return {
        key: el.matches('button, a') ? el.textContent.trim() : el.id || el.name || el.tagName,
        top: box.top + window.scrollY, left: box.left + window.scrollX,
        bottom: box.bottom + window.scrollY, right: box.right + window.scrollX,
        visible: box.width > 0 && box.height > 0 && style.visibility !== 'hidden',
        outline: style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0,
        shadow: style.boxShadow !== 'none',
    };
}"""
# The controls of a form that Tab should reach, in document order: one stop per radio group.
TABBABLE = """form => {
    const seenRadios = new Set();
    return [...form.querySelectorAll('input, select, textarea, button, a[href]')].filter(el => {
        const box = el.getBoundingClientRect();
        if (el.disabled || el.tabIndex < 0 || el.type === 'hidden') return false;
        if (box.width === 0 || box.height === 0) return false;
        if (el.type === 'radio') {
            if (seenRadios.has(el.name)) return false;
            seenRadios.add(el.name);
        }
        return true;
    }).map(el => el.matches('button, a') ? el.textContent.trim() : el.id || el.name);
}"""


def _tab_through_form(page, form, *, until: str) -> list[dict]:
    """Tab from the first control of `form` to the button named `until`, checking that each stop
    is visible, shows a focus indicator, and comes after the last one on the screen."""
    expected = form.evaluate(TABBABLE)
    form.locator("input:not([type=hidden]), select, textarea").first.focus()
    stops = [page.evaluate(FOCUSED)]
    presses = 0
    while stops[-1]["key"] != until:
        # Date fields take one Tab per part (day, month, year).
        assert presses <= 3 * len(expected), f"Tab never reached {until!r}: {stops}"
        page.keyboard.press("Tab")
        presses += 1
        stop = page.evaluate(FOCUSED)
        previous = stops[-1]
        if stop["key"] == previous["key"]:
            continue
        assert stop["visible"], f"focus went to something hidden: {stop} after {previous}"
        assert stop["outline"] or stop["shadow"], f"no visible focus style: {stop}"
        below = stop["top"] >= previous["bottom"] - 4
        same_line_right = (
            abs(stop["top"] - previous["top"]) < 12 and stop["left"] > previous["left"]
        )
        next_column = stop["left"] >= previous["right"]
        assert below or same_line_right or next_column, f"focus jumped back: {previous} -> {stop}"
        stops.append(stop)
    keys = [stop["key"] for stop in stops]
    assert keys == expected[: len(keys)], "Tab order differs from the form's order"
    return stops


@pytest.mark.parametrize("width", [1280, 320])
def test_profile_and_compose_forms_work_by_keyboard_with_visible_focus(page, width):
    page.set_viewport_size({"width": width, "height": 800})
    region = RegionFactory(name="Testshire", slug="testshire")
    CouncillorFactory(
        user__email="cllr@example.org",
        council=CouncilFactory(region=region, name="Testshire County Council"),
        ward="Castle",
    )
    staff = StaffFactory(email="staff@example.org")

    log_in(page, "cllr@example.org", PASSWORD)
    page.goto("/profile/edit/")
    page.get_by_label("Phone").fill("020 7946 0777")
    form = page.locator("form.profile-form")
    stops = _tab_through_form(page, form, until="Save my profile")
    assert len(stops) > 10
    with page.expect_navigation():
        page.keyboard.press("Space")
    assert urlsplit(page.url).path == "/profile/"
    assert page.get_by_text("Your profile is saved.").is_visible()
    assert page.get_by_text("020 7946 0777").is_visible()

    page.context.clear_cookies()
    log_in(page, staff.email, PASSWORD, totp_secret=TOTP_SECRET)
    page.goto("/campaigns/mailings/new/")
    page.get_by_label("Subject").fill("Polling day")
    page.get_by_label("Body").fill("Dear {{ recipient.first_name }}, good luck.")
    every_region = page.get_by_label("Every region", exact=False)
    every_region.focus()
    page.keyboard.press("Space")
    assert every_region.is_checked()
    form = page.locator("#mailing-form")
    stops = _tab_through_form(page, form, until="Save mailing")
    assert "Update count" in [stop["key"] for stop in stops]
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.get_by_text("Mailing saved.").is_visible()
    assert Mailing.objects.get().subject == "Polling day"


# The email addresses page and the staff menu


@pytest.mark.parametrize("width", [1280, 320])
def test_the_email_addresses_page_is_accessible_with_radios_beside_their_labels(page, width):
    from allauth.account.models import EmailAddress

    councillor = CouncillorFactory(user__email="ada@example.org")
    EmailAddress.objects.create(user=councillor.user, email="ada.work@example.org")
    page.set_viewport_size({"width": width, "height": 800})
    log_in(page, "ada@example.org", PASSWORD)
    page.goto("/accounts/email/")
    assert page.get_by_role("heading", level=1).inner_text() == "Email addresses"
    for address in ("ada@example.org", "ada.work@example.org"):
        radio = page.get_by_role("radio", name=re.compile(re.escape(address)))
        text = page.locator("label span", has_text=address).first
        radio_box, text_box = radio.bounding_box(), text.bounding_box()
        # On the same line as its label, not above it.
        assert radio_box["x"] < text_box["x"]
        assert abs(radio_box["y"] - text_box["y"]) < text_box["height"]
    assert_accessible(page)
    assert page.evaluate("document.documentElement.scrollWidth") <= width

    page.get_by_label("Email address", exact=True).fill("not an address")
    page.get_by_role("button", name="Add email address").click()
    page.wait_for_load_state()
    assert page.locator("#id_email_error").is_visible()
    assert_accessible(page)


@pytest.mark.parametrize("width", [1280, 320])
def test_the_staff_menu_fits_the_screen_and_opens_its_group_by_keyboard(page, width):
    from members.models import JoinRequest

    staff = StaffFactory(email="office@example.org")
    council = CouncilFactory()
    CouncillorFactory(user=staff, council=council)
    for n in range(12):
        JoinRequest.objects.create(
            full_name=f"Person {n}", email=f"p{n}@example.org", council=council, ward="Ward"
        )
    page.set_viewport_size({"width": width, "height": 800})
    log_in(page, "office@example.org", PASSWORD)
    page.goto("/")
    group = page.get_by_text("National office", exact=True)
    overview = page.get_by_role("link", name="National overview")

    if width == 320:
        menu = page.get_by_role("button", name="Menu")
        menu.focus()
        page.keyboard.press("Enter")
    else:
        # Every entry of the menu is on one line, and the account's links are level with the
        # portal's name.
        tops = page.eval_on_selector_all(
            "#main-nav-list > li", "items => items.map(li => li.getBoundingClientRect().top)"
        )
        assert max(tops) - min(tops) < 5, tops
        brand = page.locator(".brand").bounding_box()
        account = page.locator("#account-nav-list").bounding_box()
        assert account["y"] < brand["y"] + brand["height"]
    assert not overview.is_visible()

    group.focus()
    page.keyboard.press("Enter")
    assert overview.is_visible()
    assert page.get_by_role("link", name="Suppression list").is_visible()
    assert_accessible(page)
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    page.keyboard.press("Escape")
    assert not overview.is_visible()
    assert group.evaluate("el => el === document.activeElement")


@pytest.mark.parametrize("width", [1280, 320])
def test_links_that_act_as_buttons_are_padded_and_bordered_like_buttons(demo, page, width):
    page.set_viewport_size({"width": width, "height": 800})
    log_in(page, "councillor@demo.alc.example.org", DEMO_PASSWORD)
    page.goto("/profile/")
    edit = page.get_by_role("link", name="Edit my profile")
    padding, border = edit.evaluate(
        "el => [parseFloat(getComputedStyle(el).paddingLeft),"
        " parseFloat(getComputedStyle(el).borderTopWidth)]"
    )
    assert padding >= 16 and border == 2
    assert edit.bounding_box()["height"] >= 40
    assert_accessible(page)
