import pytest
from factories import CouncillorFactory, ErasureRequestFactory, MailingFactory, StaffFactory

from campaigns.models import Delivery
from members.services.profile import erasure_carry_out

pytestmark = pytest.mark.django_db


def test_erasing_a_member_anonymises_their_deliveries_but_keeps_the_statistics():
    councillor = CouncillorFactory(user__email="Erin.Example@example.org")
    mailing = MailingFactory()
    Delivery.objects.create(
        mailing=mailing,
        email="erin.example@example.org",
        context={"recipient": {"first_name": "Erin", "full_name": "Erin Example"}},
        status=Delivery.Status.SENT,
    )
    kept = Delivery.objects.create(mailing=mailing, email="someone.else@example.org")

    erasure_carry_out(request=ErasureRequestFactory(user=councillor.user), by=StaffFactory())

    assert Delivery.objects.filter(mailing=mailing).count() == 2
    erased = Delivery.objects.exclude(pk=kept.pk).get()
    assert erased.email == f"erased-{erased.pk}@invalid"
    assert erased.context == {}
    assert erased.status == Delivery.Status.SENT
    kept.refresh_from_db()
    assert kept.email == "someone.else@example.org"
