import pytest
from polling import wait_for

from regions.models import Council, CouncilGroup, Region
from regions.tasks import councils_reload

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_real_worker_loads_the_councils_into_the_database(celery_worker):
    assert not Council.objects.exists()

    councils_reload.delay()

    wait_for(lambda: CouncilGroup.objects.count() > 300, timeout=60)
    assert Region.objects.count() == 11
    assert Council.objects.count() > 360
