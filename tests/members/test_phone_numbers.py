"""One rule for phone numbers everywhere, and old numbers that no longer pass it."""

import re

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from factories import CouncilFactory, CouncillorFactory, RegionFactory, profile_form_data

from alc_portal.validators import phone_needs_correcting, phone_validate
from members.forms.onboarding import CouncillorEditForm

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("typed", "kept"),
    [
        ("020 7946 0000", "020 7946 0000"),
        ("+44 20 7946 0000", "+44 20 7946 0000"),
        ("+44 (0)29 2087 2000", "+44 (0)29 2087 2000"),
        ("01632-960-001", "01632-960-001"),
        ("0800 123 456", "0800 123 456"),
        ("  07700   900555 ", "07700 900555"),
        ("+1 202 555 0147", "+1 202 555 0147"),
        ("", ""),
    ],
)
def test_uk_and_international_numbers_are_accepted_and_tidied(typed, kept):
    assert phone_validate(typed) == kept


@pytest.mark.parametrize(
    "typed",
    [
        "946 0000",  # no area code
        "020 7946",
        "+44 20 7946 0000 0000 00",  # more digits than any number has
        "call me maybe",
        "020 7946 0000 ext 12",
        "020+7946 0000",  # + only at the start
        "020<script>7946</script>0000",
        "1" * 31,
    ],
)
def test_numbers_that_break_the_rule_are_refused(typed):
    with pytest.raises(ValidationError) as refused:
        phone_validate(typed)
    assert "10 to 15 digits" in refused.value.messages[0]


def test_an_unchanged_saved_number_is_kept_and_a_changed_one_is_checked():
    assert phone_validate("946  0000", stored="946 0000") == "946 0000"
    assert phone_needs_correcting("946 0000")
    assert not phone_needs_correcting("020 7946 0000")
    assert not phone_needs_correcting("")
    with pytest.raises(ValidationError):
        phone_validate("946 0001", stored="946 0000")


def _profile_form(councillor, **changes):
    return profile_form_data(councillor, **changes)


@pytest.fixture
def councillor():
    council = CouncilFactory(region=RegionFactory())
    return CouncillorFactory(council=council, ward="Castle", phone="946 0000")


def test_an_old_short_number_does_not_stop_a_councillor_saving_their_profile(client, councillor):
    client.force_login(councillor.user)

    page = client.get(reverse("profile_edit")).text
    help_text = re.search(r'<p class="help" id="id_phone_helptext">(.*?)</p>', page, re.S)
    assert help_text and "does not look complete or valid" in help_text.group(1)
    assert re.search(r'aria-describedby="[^"]*id_phone_helptext', page)

    response = client.post(reverse("profile_edit"), _profile_form(councillor, bio="Hello."))
    assert response.status_code == 302
    councillor.refresh_from_db()
    assert (councillor.bio, councillor.phone) == ("Hello.", "946 0000")


def test_a_councillor_cannot_change_to_another_number_that_breaks_the_rule(client, councillor):
    client.force_login(councillor.user)
    response = client.post(reverse("profile_edit"), _profile_form(councillor, phone="946 0001"))
    assert response.status_code == 200
    error = re.search(r'<ul class="errorlist" id="id_phone_error">(.*?)</ul>', response.text, re.S)
    assert error and "10 to 15 digits" in error.group(1)
    councillor.refresh_from_db()
    assert councillor.phone == "946 0000"


def test_a_councillor_can_correct_an_old_number(client, councillor):
    client.force_login(councillor.user)
    client.post(reverse("profile_edit"), _profile_form(councillor, phone="020 7946 0000"))
    councillor.refresh_from_db()
    assert councillor.phone == "020 7946 0000"
    page = client.get(reverse("profile_edit")).text
    assert "does not look complete or valid" not in page


def test_a_number_the_representative_can_save_the_councillor_can_save_too(client, councillor):
    """The rule is the same on both forms: what one accepts, the other does not refuse."""
    rep_form = {"full_name": councillor.user.full_name, "ward": "Castle", "phone": "0800 123 456"}
    assert CouncillorEditForm(rep_form, initial={"phone": ""}).is_valid()
    client.force_login(councillor.user)
    response = client.post(reverse("profile_edit"), _profile_form(councillor, phone="0800 123 456"))
    assert response.status_code == 302
