"""A person downloads their data, asks for it to be erased, and keeps equality answers."""

import csv
import io
import json

import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from django.apps import apps
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from factories import (
    PASSWORD,
    TOTP_SECRET,
    CouncilGroupFactory,
    CouncillorFactory,
    ErasureRequestFactory,
    GroupOfficerFactory,
    LevyWaiverFactory,
    MailingFactory,
    PositionFactory,
    ProfileChangeFactory,
    RepresentativeFactory,
    StaffFactory,
    SuppressionFactory,
)

from campaigns.models import Delivery
from members import services
from members.models import (
    Councillor,
    CouncillorImport,
    Decision,
    EqualityMonitoring,
    ErasureRequest,
    JoinRequest,
    LevyWaiver,
    Position,
    ProfileChange,
    StaffRole,
    User,
)
from members.services import councillor_imports
from members.services.accounts import two_factor_enrol
from members.services.personal_data import personal_data_collect
from members.services.staff import staff_appoint
from regions.models import CouncilGroup, Region, RegionalRepresentative

pytestmark = pytest.mark.django_db


@pytest.fixture
def councillor():
    councillor = CouncillorFactory(
        phone="020 7946 0123",
        bio="Allotments.",
        ward="Castle",
        user__full_name="Quentin Blakewell",
        user__email="quentin@example.org",
    )
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
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
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
    rows = list(
        csv.DictReader(io.StringIO(client.get(reverse("my_data_csv")).content.decode("utf-8-sig")))
    )
    bio = next(r["value"] for r in rows if r["field"] == "bio" and r["section"] == "councillor")
    assert bio.startswith("'=")


def test_download_has_their_requests_roles_and_mail(client, councillor):
    user = councillor.user
    two_factor_enrol(user=user, totp_secret=TOTP_SECRET)
    JoinRequest.objects.create(
        full_name="Quentin Blakewell", email="Quentin@example.org", council=councillor.council,
        ward="Castle", status=Decision.APPROVED,
    )  # fmt: skip
    JoinRequest.objects.create(
        full_name="Someone Else", email="else@example.org", council=councillor.council,
        ward="Hill",
    )  # fmt: skip
    GroupOfficerFactory(user=user, role="secretary", group__name="Oakfield Labour Group")
    RepresentativeFactory(user=user, region__name="Wales")
    staff_appoint(user=user, job_title="Organiser")
    mailing = MailingFactory(subject="Elections in May")
    Delivery.objects.create(
        mailing=mailing, email="second@example.org", status=Delivery.Status.SENT,
        context={"recipient": {"first_name": "Quentin"}},
    )  # fmt: skip
    Delivery.objects.create(mailing=mailing, email="else@example.org")
    SuppressionFactory(email="QUENTIN@example.org", reason="unsubscribed")
    SuppressionFactory(email="else@example.org")
    client.force_login(user)

    data = client.get(reverse("my_data_json")).json()
    assert [(j["full_name"], j["ward"]) for j in data["join_requests"]] == [
        ("Quentin Blakewell", "Castle")
    ]
    assert [(o["group"], o["role"]) for o in data["group_offices"]] == [
        ("Oakfield Labour Group", "Secretary")
    ]
    assert [r["region"] for r in data["representative_appointments"]] == ["Wales"]
    assert [r["job_title"] for r in data["staff_roles"]] == ["Organiser"]
    assert [(d["mailing"], d["email"], d["status"]) for d in data["mailing_deliveries"]] == [
        ("Elections in May", "second@example.org", "sent")
    ]
    assert data["mailing_deliveries"][0]["merge_values"] == {"recipient": {"first_name": "Quentin"}}
    assert [(s["email"], s["reason"]) for s in data["suppressions"]] == [
        ("QUENTIN@example.org", "unsubscribed")
    ]
    assert data["equality_monitoring"]["answers"] == {"age_band": "30_44"}
    assert "else@example.org" not in json.dumps(data)

    rows = list(
        csv.DictReader(io.StringIO(client.get(reverse("my_data_csv")).content.decode("utf-8-sig")))
    )
    values = {(r["section"], r["field"]): r["value"] for r in rows}
    assert values[("join_requests", "ward")] == "Castle"
    assert values[("group_offices", "role")] == "Secretary"
    assert values[("representative_appointments", "region")] == "Wales"
    assert values[("staff_roles", "job_title")] == "Organiser"
    assert values[("mailing_deliveries", "merge_values.recipient.first_name")] == "Quentin"
    assert values[("suppressions", "reason")] == "unsubscribed"
    assert "else@example.org" not in str(rows)


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


def _national_figures():
    return list(
        Region.objects.with_national_figures()
        .order_by("pk")
        .values("pk", "council_count", "group_count", "councillor_count", "groups_without_leader")
    )


def _rows_mentioning(needle: str) -> list[str]:
    """Every table, of every installed app, with a row holding this text."""
    found = []
    for model in apps.get_models():
        rows = json.dumps(list(model._default_manager.values()), default=str)
        if needle.lower() in rows.lower():
            found.append(model._meta.label)
    return found


def _import(council, by, text):
    return councillor_imports.councillor_import_preview(
        region=council.region, uploaded_by=by, filename="may.csv", raw=text.encode()
    )


def test_carrying_out_erasure_removes_personal_data_but_keeps_counts(client, councillor):
    council = councillor.council
    CouncilGroupFactory(council=council)
    CouncillorFactory(council=council)
    staff = StaffFactory()
    user_pk = councillor.user.pk
    # The person joined through the public form; a second, mistaken request was refused.
    JoinRequest.objects.create(
        full_name="Quentin Blakewell", email="quentin@example.org", council=council,
        ward="Castle", status=Decision.APPROVED, reason="Added by a representative.",
    )  # fmt: skip
    JoinRequest.objects.create(
        full_name="Q. Blakewell", email="second@example.org", council=council, ward="Castle",
        status=Decision.REFUSED, reason="Quentin Blakewell already has an account.",
    )  # fmt: skip
    # Imports naming them: one applied, one still waiting, one finished before files were
    # dropped on completion.
    rows = (
        f"full_name,email,council,ward,phone\n"
        f"Quentin Blakewell,QUENTIN@example.org,{council.gss_code},Castle,020 7946 0789\n"
        f"Olive Other,olive@example.org,{council.gss_code},Hill,\n"
    )
    councillor_imports.councillor_import_confirm(councillor_import=_import(council, staff, rows))
    waiting = _import(council, staff, rows)
    finished = _import(council, staff, rows)
    CouncillorImport.objects.filter(pk=finished.pk).update(status=CouncillorImport.Status.DONE)
    mailing = MailingFactory()
    Delivery.objects.create(
        mailing=mailing, email="Quentin@example.org", status=Delivery.Status.SENT,
        context={"recipient": {"first_name": "Quentin", "full_name": "Quentin Blakewell"}},
    )  # fmt: skip
    Delivery.objects.create(mailing=mailing, email="olive@example.org")
    LogEntry.objects.log_actions(
        user_id=staff.pk, queryset=[councillor.user, councillor], action_flag=CHANGE
    )
    figures_before = _national_figures()
    serving_before = Councillor.objects.serving().filter(council=council).count()
    assert _rows_mentioning("Blakewell") and _rows_mentioning("quentin@example.org")

    person = Client()
    person.force_login(councillor.user)
    erasure = ErasureRequestFactory(user=councillor.user)
    client.force_login(staff)
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
    assert not councillor.wants_campaign_mailings
    assert not Position.objects.filter(councillor=councillor).exists()
    assert not EqualityMonitoring.objects.filter(user=user).exists()
    assert not EmailAddress.objects.filter(user=user).exists()
    assert LevyWaiver.objects.get(councillor=councillor).circumstances == ""
    # One history record stays, anonymised: that the person was erased, by whom and when.
    [erased] = User.history.filter(id=user_pk)
    assert (erased.email, erased.full_name) == (f"erased-{user_pk}@invalid", "Erased member")
    assert erased.history_change_reason.startswith("Erased by ")
    assert not EmailAddress.history.filter(user_id=user_pk).exists()
    assert not Councillor.history.filter(id=councillor.pk).exists()
    assert not Position.history.filter(councillor_id=councillor.pk).exists()
    erasure.refresh_from_db()
    assert erasure.status == Decision.APPROVED

    # Join requests stay counted, without the person in them.
    assert JoinRequest.objects.count() == 3
    assert set(JoinRequest.objects.values_list("full_name", flat=True)) == {
        "Erased member",
        "Olive Other",
    }
    # Imports: the person's report rows are redacted, the waiting file loses their row only,
    # finished imports keep no file at all.
    for imp in CouncillorImport.objects.all():
        names = [row["full_name"] for row in imp.report["rows"]]
        assert names == ["Erased member", "Olive Other"]
    waiting.refresh_from_db()
    assert "Olive Other" in waiting.content and "quentin" not in waiting.content.lower()
    assert set(
        CouncillorImport.objects.exclude(pk=waiting.pk).values_list("content", flat=True)
    ) == {""}
    # Mailing statistics keep the message, not the address or the merge values.
    assert mailing.deliveries.count() == 2
    assert mailing.deliveries.filter(status=Delivery.Status.SENT).count() == 1

    # Nothing that names or reaches them is left anywhere in the database.
    for needle in ["Blakewell", "quentin@example.org", "second@example.org", "020 7946",
                   "Allotments", "Carer on a low income"]:  # fmt: skip
        assert _rows_mentioning(needle) == [], needle
    left = json.dumps(personal_data_collect(user=user), default=str)
    assert "020 7946" not in left and "Allotments" not in left and "Carer" not in left

    # The councillor still counts where they sit, and every national figure is unchanged.
    assert councillor.council == council and councillor.left_on is None
    assert Councillor.objects.serving().filter(council=council).count() == serving_before
    assert _national_figures() == figures_before
    group_page = client.get(reverse("regions:group", args=[council.labour_group.pk])).text
    assert "Erased member" in group_page and "Blakewell" not in group_page

    # They can no longer log in, and their open session has ended.
    assert not Client().login(email="quentin@example.org", password=PASSWORD)
    assert not Client().login(email=user.email, password=PASSWORD)
    assert person.get(reverse("profile")).status_code == 302


def test_erasure_refuses_the_persons_pending_requests(client, councillor):
    rep = RepresentativeFactory(region=councillor.council.region).user
    staff = StaffFactory()
    change = ProfileChange.objects.get(councillor=councillor)
    waiver = LevyWaiver.objects.get(councillor=councillor)
    earlier = LevyWaiverFactory(
        councillor=councillor, year=2025, status=Decision.APPROVED, reason="Agreed by Ann."
    )
    erasure = ErasureRequestFactory(user=councillor.user)
    services.erasure.erasure_carry_out(request=erasure, by=staff)

    for request in [ProfileChange.objects.get(pk=change.pk), LevyWaiver.objects.get(pk=waiver.pk)]:
        assert request.status == Decision.REFUSED
        assert request.reason == "Personal data erased."
        assert request.decided_by == staff and request.decided_at is not None
    earlier.refresh_from_db()
    assert (earlier.status, earlier.reason) == (Decision.APPROVED, "")

    # The representative no longer sees a move to approve, and approving it anyway does nothing.
    client.force_login(rep)
    assert list(client.get(reverse("decisions_changes")).context["pending"]) == []
    client.post(reverse("decisions_change", args=[change.pk]), {"decision": "approved"})
    assert ProfileChange.objects.get(pk=change.pk).status == Decision.REFUSED
    councillor.refresh_from_db()
    assert councillor.ward == ""
    client.force_login(staff)
    client.post(reverse("decisions_waiver", args=[waiver.pk]), {"decision": "approved"})
    assert LevyWaiver.objects.get(pk=waiver.pk).status == Decision.REFUSED


def test_erasure_ends_the_persons_roles(client):
    person = RepresentativeFactory().user
    staff_appoint(user=person)
    erasure = ErasureRequestFactory(user=person)
    services.erasure.erasure_carry_out(request=erasure, by=StaffFactory())
    person = User.objects.get(pk=person.pk)
    assert not (person.is_staff or person.is_superuser or person.groups.exists())
    assert not StaffRole.objects.filter(user=person).exists()
    assert not RegionalRepresentative.objects.current().filter(user=person).exists()
    assert RegionalRepresentative.objects.filter(user=person).count() == 1


def test_erasure_ends_the_persons_group_offices(client, councillor):
    group = CouncilGroupFactory(council=councillor.council)
    leader = GroupOfficerFactory(group=group, role="leader", user=councillor.user)
    other_group = CouncilGroupFactory()
    secretary = GroupOfficerFactory(group=other_group, role="secretary", user=councillor.user)
    colleague = GroupOfficerFactory(group=group, role="chief_whip")
    staff = StaffFactory()
    services.erasure.erasure_carry_out(
        request=ErasureRequestFactory(user=councillor.user), by=staff
    )

    for office in (leader, secretary):
        office.refresh_from_db()
        assert office.end_date == timezone.localdate()
        latest = office.history.first()
        assert latest.history_change_reason == "Term ended: personal data erased"
        assert latest.history_user == staff
    colleague.refresh_from_db()
    assert colleague.end_date is None
    # Completeness counts the group as having no leader.
    assert CouncilGroup.objects.without_current("leader").filter(pk=group.pk).exists()
    client.force_login(staff)
    page = client.get(reverse("regions:group", args=[group.pk])).text
    current_officers = page.split("Current officers of")[1].split("</table>")[0]
    assert "Erased member" not in current_officers


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
    assert '<td class="num">hidden</td>' in text
    assert EqualityMonitoring.objects.first().user.full_name not in text


def test_download_has_their_import_rows_only(client, councillor):
    council, staff = councillor.council, StaffFactory()
    rows = (
        f"full_name,email,council,ward,phone\n"
        f"Olive Other,olive@example.org,{council.gss_code},Hill,\n"
        f"Quentin Blakewell,QUENTIN@example.org,{council.gss_code},Castle Hill,020 7946 0789\n"
        f"Bad Row,not-an-email,{council.gss_code},Dale,\n"
    )
    _import(council, staff, rows)
    client.force_login(councillor.user)

    data = client.get(reverse("my_data_json")).json()
    [row] = data["import_rows"]
    assert (row["file"], row["region"], row["line"]) == ("may.csv", council.region.name, 3)
    assert (row["email"], row["ward"], row["action"]) == (
        "quentin@example.org",
        "Castle Hill",
        "update",
    )
    assert row["changes"]["ward"] == ["Castle", "Castle Hill"]
    text = json.dumps(data)
    assert "Olive" not in text and "olive@example.org" not in text and "Bad Row" not in text

    csv_rows = list(
        csv.DictReader(io.StringIO(client.get(reverse("my_data_csv")).content.decode("utf-8-sig")))
    )
    values = {(r["section"], r["field"]): r["value"] for r in csv_rows}
    assert values[("import_rows", "ward")] == "Castle Hill"
    assert "Olive" not in str(csv_rows)


def test_download_has_the_history_of_their_positions_and_requests(client, councillor):
    gone = PositionFactory(councillor=councillor, title="Treasurer")
    gone.delete()
    change = ProfileChange.objects.get(councillor=councillor)
    services.profile_changes.profile_change_decide(
        change=change, by=StaffFactory(), approve=False, reason="Riverside is not a ward here."
    )
    PositionFactory(title="Someone else's office")
    client.force_login(councillor.user)

    data = client.get(reverse("my_data_json")).json()
    assert [p["title"] for p in data["positions"]] == ["Group whip"]
    positions = [(h["title"], h["change"]) for h in data["position_history"]]
    assert ("Group whip", "Created") in positions
    assert ("Treasurer", "Created") in positions and ("Treasurer", "Deleted") in positions
    changes = [(h["ward"], h["status"], h["reason"]) for h in data["profile_change_history"]]
    assert changes == [
        ("Riverside", "pending", ""),
        ("Riverside", "refused", "Riverside is not a ward here."),
    ]
    assert data["profile_change_history"][0]["council"] == councillor.council.name
    assert [h["circumstances"] for h in data["levy_waiver_history"]] == ["Carer on a low income."]
    assert "Someone else's office" not in json.dumps(data)
    rows = list(
        csv.DictReader(io.StringIO(client.get(reverse("my_data_csv")).content.decode("utf-8-sig")))
    )
    assert {"position_history", "profile_change_history"} <= {r["section"] for r in rows}


def test_download_lists_two_factor_methods_without_secrets(client, councillor):
    user = councillor.user
    recovery_codes = two_factor_enrol(user=user, totp_secret=TOTP_SECRET)
    Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).update(
        last_used_at="2026-02-01T09:30Z"
    )
    client.force_login(user)

    for download in [reverse("my_data_json"), reverse("my_data_csv")]:
        text = client.get(download).content.decode()
        assert TOTP_SECRET not in text
        assert not any(code in text for code in recovery_codes)
        for authenticator in Authenticator.objects.filter(user=user):
            secrets = [v for v in authenticator.data.values() if isinstance(v, str)]
            assert secrets and not any(secret in text for secret in secrets)
    methods = client.get(reverse("my_data_json")).json()["two_factor_authenticators"]
    assert [m["type"] for m in methods] == ["TOTP Authenticator", "Recovery codes"]
    assert methods[0]["last_used_at"].startswith("2026-02-01T09:30")
    assert methods[1]["last_used_at"] is None
    assert all(set(m) == {"type", "created_at", "last_used_at"} for m in methods)


def test_csv_export_starts_with_a_byte_order_mark_for_excel(client):
    councillor = CouncillorFactory(user__full_name="Zoë Brontë")
    client.force_login(councillor.user)
    content = client.get(reverse("my_data_csv")).content
    assert content.startswith("\ufeffsection,".encode())
    assert "Zoë Brontë" in content.decode("utf-8-sig")
