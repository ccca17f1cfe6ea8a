"""A person downloads their data, asks for it to be erased, and keeps equality answers."""

import csv
import io
import json

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth.models import Permission
from django.urls import reverse
from factories import (
    CouncillorFactory,
    ErasureRequestFactory,
    LevyWaiverFactory,
    PositionFactory,
    ProfileChangeFactory,
    StaffFactory,
)

from members.models import (
    Councillor,
    Decision,
    EqualityMonitoring,
    ErasureRequest,
    LevyWaiver,
    Position,
    User,
)
from members.services import personal_data_collect

pytestmark = pytest.mark.django_db


@pytest.fixture
def councillor():
    councillor = CouncillorFactory(phone="020 7946 0123", bio="Allotments.", ward="Castle")
    EmailAddress.objects.create(user=councillor.user, email="second@example.org")
    PositionFactory(councillor=councillor, title="Group whip")
    ProfileChangeFactory(councillor=councillor, ward="Riverside")
    LevyWaiverFactory(councillor=councillor, circumstances="Carer on a low income.")
    EqualityMonitoring.objects.create(
        user=councillor.user, consented_at="2026-01-05T10:00Z", answers={"age_band": "30_44"}
    )
    councillor.phone = "020 7946 0456"
    councillor.save()  # a second history row
    return councillor


def test_json_export_holds_everything_about_them(client, councillor):
    other = CouncillorFactory(phone="07700 900999")
    client.force_login(councillor.user)
    response = client.get(reverse("my_data_json"))
    assert response["Content-Disposition"].startswith("attachment;")
    data = json.loads(response.content)
    assert data["user"]["email"] == councillor.user.email
    assert "password" not in json.dumps(data)
    assert {a["email"] for a in data["email_addresses"]} == {
        councillor.user.email,
        "second@example.org",
    }
    assert data["councillor"]["phone"] == "020 7946 0456"
    assert data["councillor"]["council"] == councillor.council.name
    assert [p["title"] for p in data["positions"]] == ["Group whip"]
    assert data["profile_changes"][0]["ward"] == "Riverside"
    assert data["levy_waivers"][0]["circumstances"] == "Carer on a low income."
    assert data["equality_monitoring"]["answers"] == {"age_band": "30_44"}
    phones = [h.get("phone") for h in data["profile_history"]]
    assert "020 7946 0123" in phones and "020 7946 0456" in phones
    assert other.user.email not in response.content.decode()
    assert "07700 900999" not in response.content.decode()


def test_csv_export_parses_and_has_the_same_data(client, councillor):
    client.force_login(councillor.user)
    response = client.get(reverse("my_data_csv"))
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert rows[0].keys() == {"section", "record", "field", "value"}
    values = {(r["section"], r["field"]): r["value"] for r in rows}
    assert values[("user", "email")] == councillor.user.email
    assert values[("positions", "title")] == "Group whip"
    assert values[("equality_monitoring", "answers.age_band")] == "30_44"
    assert values[("levy_waivers", "circumstances")] == "Carer on a low income."
    assert not any(r["field"] == "password" for r in rows)


def test_csv_export_never_starts_a_cell_with_a_formula(client):
    councillor = CouncillorFactory(bio='=HYPERLINK("http://evil")')
    client.force_login(councillor.user)
    rows = list(csv.DictReader(io.StringIO(client.get(reverse("my_data_csv")).content.decode())))
    bio = next(r["value"] for r in rows if r["field"] == "bio" and r["section"] == "councillor")
    assert bio.startswith("'=")


def test_erasure_needs_confirmation(client, councillor):
    client.force_login(councillor.user)
    response = client.post(reverse("erasure_request"), {})
    assert response.status_code == 200
    assert "Tick the box to confirm" in response.text
    assert not ErasureRequest.objects.exists()
    client.post(reverse("erasure_request"), {"confirm": "on"})
    client.post(reverse("erasure_request"), {"confirm": "on"})
    request = ErasureRequest.objects.get()
    assert (request.user, request.status) == (councillor.user, Decision.PENDING)


def test_carrying_out_erasure_removes_personal_data_but_keeps_counts(client, councillor):
    council = councillor.council
    CouncillorFactory(council=council)
    count_before = Councillor.objects.filter(council=council).count()
    erasure = ErasureRequestFactory(user=councillor.user)
    user_pk = councillor.user.pk
    client.force_login(StaffFactory())
    response = client.post(
        reverse("decisions_erasure", args=[erasure.pk]), {"decision": "approved"}
    )
    assert response.status_code == 302

    user = User.objects.get(pk=user_pk)
    assert user.email == f"erased-{user_pk}@invalid"
    assert user.full_name == "Erased member" and user.preferred_name == ""
    assert not user.has_usable_password() and not user.is_active
    councillor.refresh_from_db()
    assert (councillor.phone, councillor.bio, councillor.ward) == ("", "", "")
    assert councillor.left_on is not None
    assert not Position.objects.filter(councillor=councillor).exists()
    assert not EqualityMonitoring.objects.filter(user=user).exists()
    assert not EmailAddress.objects.filter(user=user).exists()
    assert LevyWaiver.objects.get(councillor=councillor).circumstances == ""
    assert not User.history.filter(id=user_pk).exists()
    assert not Councillor.history.filter(id=councillor.pk).exists()
    assert not Position.history.filter(councillor_id=councillor.pk).exists()
    assert Councillor.objects.filter(council=council).count() == count_before
    erasure.refresh_from_db()
    assert erasure.status == Decision.APPROVED

    # Nothing personal is left in what the portal would give out about them either.
    left = json.dumps(personal_data_collect(user=user), default=str)
    assert "020 7946" not in left and "Allotments" not in left and "Carer" not in left


def test_staff_can_refuse_erasure_with_a_reason_the_person_sees(client, councillor):
    erasure = ErasureRequestFactory(user=councillor.user)
    client.force_login(StaffFactory())
    url = reverse("decisions_erasure", args=[erasure.pk])
    assert client.post(url, {"decision": "refused"}).status_code == 200
    client.post(url, {"decision": "refused", "reason": "Your levy appeal is still open."})
    councillor.refresh_from_db()
    assert councillor.phone == "020 7946 0456"
    client.force_login(councillor.user)
    assert "Your levy appeal is still open." in client.get(reverse("my_data")).text


def test_equality_answers_need_consent(client):
    user = CouncillorFactory().user
    client.force_login(user)
    response = client.post(reverse("equality"), {"age_band": "30_44"})
    assert "Tick the consent box" in response.text
    assert not EqualityMonitoring.objects.exists()
    client.post(
        reverse("equality"),
        {"age_band": "30_44", "disability": "prefer_not_to_say", "consent": "on"},
    )
    record = EqualityMonitoring.objects.get(user=user)
    assert record.answers == {"age_band": "30_44", "disability": "prefer_not_to_say"}
    text = client.get(reverse("equality")).text
    assert "30 to 44" in text and "Prefer not to say" in text


def test_equality_answers_can_be_changed_and_withdrawn(client):
    user = CouncillorFactory().user
    client.force_login(user)
    client.post(reverse("equality"), {"gender": "woman", "consent": "on"})
    client.post(reverse("equality"), {"gender": "non_binary", "consent": "on"})
    assert EqualityMonitoring.objects.get(user=user).answers == {"gender": "non_binary"}
    client.post(reverse("equality_withdraw"))
    assert not EqualityMonitoring.objects.exists()


def test_invalid_equality_answer_is_refused(client):
    client.force_login(CouncillorFactory().user)
    response = client.post(reverse("equality"), {"gender": "<script>", "consent": "on"})
    assert "Select a valid choice" in response.text
    assert not EqualityMonitoring.objects.exists()


def test_staff_with_permission_see_only_totals(client):
    for band in ["30_44"] * 6 + ["60_74"]:
        EqualityMonitoring.objects.create(
            user=CouncillorFactory().user,
            consented_at="2026-01-05T10:00Z",
            answers={"age_band": band},
        )
    staff = StaffFactory()
    client.force_login(staff)
    assert client.get(reverse("decisions_equality")).status_code == 403
    staff.user_permissions.add(Permission.objects.get(codename="view_equality_monitoring"))
    staff = User.objects.get(pk=staff.pk)
    client.force_login(staff)
    text = client.get(reverse("decisions_equality")).text
    assert '<td class="num">6</td>' in text
    assert "fewer than 5" in text
    assert EqualityMonitoring.objects.first().user.full_name not in text
