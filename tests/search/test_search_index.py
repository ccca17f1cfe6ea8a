"""The index follows every change to what it describes, in the same transaction: saves and
deletes, the councillor import and the council data loader (which write in bulk), an erasure;
and `search_reindex` mends whatever changed behind its back."""

import datetime

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from factories import (
    CouncilFactory,
    CouncilGroupFactory,
    CouncillorFactory,
    ErasureRequestFactory,
    RegionFactory,
    StaffFactory,
)

from members.models import Councillor, User
from members.services import councillor_imports
from members.services.councillors import councillor_update
from members.services.erasure import erasure_carry_out
from regions.models import Council
from search.models import SearchEntry
from search.results import search_for

pytestmark = pytest.mark.django_db


def names_found(user, query) -> list[str]:
    return [r.title for g in search_for(user, query, per_kind=50).groups for r in g.results]


def test_a_renamed_councillor_is_found_by_their_new_name_only(world):
    councillor_update(councillor=world.zebedee, full_name="Zebedee Marchbanks", ward="Docks",
                      phone="")  # fmt: skip
    assert names_found(world.rep_a, "Marchbanks") == ["Zebedee Marchbanks"]
    assert names_found(world.cllr_a, "Quillfeather") == []
    assert names_found(world.cllr_a, "Docks") == ["Zebedee Marchbanks"]
    assert names_found(world.cllr_a, "Marshgate") == []


def test_a_councillor_who_moves_region_is_found_by_their_new_region(world):
    world.zebedee.council = world.council_b
    world.zebedee.save()
    assert names_found(world.rep_b, "Quillfeather") == ["Zebedee Quillfeather"]
    assert names_found(world.rep_a, "Quillfeather") == []


def test_a_council_moved_to_another_region_takes_its_people_and_group(world):
    world.council_a.region = world.region_b
    world.council_a.save()
    assert "Zebedee Quillfeather" in names_found(world.cllr_b, "Quillfeather")
    assert names_found(world.cllr_b, "Ashbourne") == [
        "Ashbourne Borough Council",
        "Ashbourne Labour Group",
    ]


def test_a_renamed_council_renames_its_group_s_entry(world):
    world.council_a.name, world.council_a.short_name = "Ashdown Borough Council", "Ashdown"
    world.council_a.save()
    assert names_found(world.staff, "Ashdown") == [
        "Ashdown Borough Council",
        "Ashbourne Labour Group",
    ]


def test_deleted_objects_leave_the_index(world):
    world.group_b.delete()
    world.mailing.delete()
    world.campaign.delete()
    world.office_only.delete()
    assert names_found(world.staff, "Bramcote Labour") == []
    assert names_found(world.staff, "zephyr") == []
    assert names_found(world.staff, "Clean Rivers") == []
    assert not SearchEntry.objects.filter(kind="person", object_id=world.office_only.pk).exists()


def test_a_login_does_not_touch_the_index(world):
    world.cllr_a.last_login = datetime.datetime.now(datetime.UTC)
    with CaptureQueriesContext(connection) as queries:
        world.cllr_a.save(update_fields=["last_login"])
    assert not [q for q in queries.captured_queries if "search_searchentry" in q["sql"]]


def test_imported_councillors_are_found_at_once(world):
    text = (
        "full_name,email,council,ward,phone\n"
        "Wynfor Penhaligon,wynfor@example.org,E07000911,Harbour,\n"
        "Zebedee Quillfeather-Hart,zebedee.quillfeather@example.org,E07000911,Marshgate,\n"
    )
    imp = councillor_imports.councillor_import_preview(
        region=world.region_a, uploaded_by=world.rep_a, filename="new.csv", raw=text.encode()
    )
    councillor_imports.councillor_import_confirm(councillor_import=imp)
    assert names_found(world.cllr_a, "Penhaligon") == ["Wynfor Penhaligon"]
    assert names_found(world.cllr_a, "Quillfeather Hart") == ["Zebedee Quillfeather-Hart"]


def test_the_council_data_is_found_once_loaded(gb_councils):
    staff = StaffFactory()
    assert names_found(staff, "Caerdydd") == []  # the file has English names only
    assert names_found(staff, "Cardif")[:2] == ["City of Cardiff Council", "Cardiff Labour Group"]
    assert SearchEntry.objects.filter(kind="council").count() == Council.objects.count()


def test_loading_councils_again_rewrites_nothing(gb_councils, django_assert_max_num_queries):
    from regions.services import councils_load

    with django_assert_max_num_queries(20):
        councils_load()


def test_an_erased_person_leaves_no_trace_in_the_index(world):
    request = ErasureRequestFactory(user=world.zebedee.user)
    erasure_carry_out(request=request, by=world.staff)
    entry = SearchEntry.objects.get(kind="person", object_id=world.zebedee.user_id)
    for field in (entry.names, entry.details, entry.contacts, " ".join(entry.typo_keys)):
        for trace in ("zebedee", "quillfeather", "marshgate", "960111"):
            assert trace not in field
    assert names_found(world.staff, "Quillfeather") == []


def test_reindex_mends_what_changed_without_a_signal(world):
    User.objects.filter(pk=world.yolanda.user_id).update(full_name="Yolanda Featherstonehaugh")
    Councillor.objects.filter(pk=world.zebedee.pk).update(left_on=datetime.date(2025, 1, 6))
    SearchEntry.objects.create(kind="council", object_id=999_999, names="phantom", region_id=None)
    assert names_found(world.staff, "Featherstonehaugh") == []

    call_command("search_reindex", stdout=open("/dev/null", "w"))  # noqa: SIM115

    assert names_found(world.staff, "Featherstonehaugh") == ["Yolanda Featherstonehaugh"]
    assert names_found(world.cllr_a, "Quillfeather") == []
    assert names_found(world.staff, "phantom") == []


def test_reindex_of_an_index_in_step_writes_nothing(world, capsys):
    call_command("search_reindex")
    assert "0 written, 0 removed" in capsys.readouterr().out
    SearchEntry.objects.all().delete()
    call_command("search_reindex")
    assert "0 removed, 0 unchanged" in capsys.readouterr().out
    assert names_found(world.staff, "Quillfeather") == ["Zebedee Quillfeather"]


def test_a_group_is_found_by_its_council_s_name(db):
    council = CouncilFactory(region=RegionFactory(), name="Tewkesbury Borough Council",
                             short_name="Tewkesbury")  # fmt: skip
    CouncilGroupFactory(council=council, name="Labour Group")
    assert names_found(StaffFactory(), "tewkesbury labour") == ["Labour Group"]


def test_a_former_councillor_is_ranked_after_serving_ones(world):
    CouncillorFactory(council=world.council_a, user__full_name="Xanthe Dovecote",
                      user__email="xanthe2@example.org")  # fmt: skip
    [group] = search_for(world.rep_a, "Xanthe Dovecote", per_kind=10).groups
    assert [r.detail.endswith("(no longer a councillor)") for r in group.results] == [False, True]
