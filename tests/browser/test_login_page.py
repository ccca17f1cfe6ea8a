import pytest
from django.core.management import call_command
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_demo_councillor_logs_in_and_sees_their_council(gb_councils, page):
    call_command("demo_data", verbosity=0)

    page.goto("/")
    page.get_by_label("Email").fill("councillor@demo.alc.example.org")
    page.get_by_label("Password").fill("demo-portal-2026")
    page.get_by_role("button", name="Sign In").click()

    expect(page.get_by_role("heading", name="Your council")).to_be_visible()
    expect(page.get_by_role("link", name="London Borough of Camden").first).to_be_visible()
