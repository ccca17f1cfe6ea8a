"""Fixtures shared by the events tests: two regions with a council, a councillor and a
representative each, and the national office."""

import pytest
from factories import (
    CouncilFactory,
    CouncillorFactory,
    RegionFactory,
    RepresentativeFactory,
    StaffFactory,
)


@pytest.fixture
def region_x():
    return RegionFactory(name="Region X", slug="region-x")


@pytest.fixture
def region_y():
    return RegionFactory(name="Region Y", slug="region-y")


@pytest.fixture
def council_x(region_x):
    return CouncilFactory(region=region_x, name="Oakfield Borough Council", short_name="Oakfield")


@pytest.fixture
def council_y(region_y):
    return CouncilFactory(region=region_y, name="Elmbridge Borough Council", short_name="Elmbridge")


@pytest.fixture
def councillor_x(council_x):
    return CouncillorFactory(council=council_x, user__full_name="Ada Oakley")


@pytest.fixture
def councillor_y(council_y):
    return CouncillorFactory(council=council_y, user__full_name="Bea Elmsworth")


@pytest.fixture
def rep_x(region_x):
    return RepresentativeFactory(region=region_x).user


@pytest.fixture
def staff():
    return StaffFactory()


@pytest.fixture
def councillors_x(council_x):
    """Five more serving councillors of region X, to fill places and waiting lists."""
    return [
        CouncillorFactory(council=council_x, user__full_name=f"Waiting Person {n}")
        for n in range(5)
    ]
