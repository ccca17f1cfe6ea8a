"""Fixtures shared by the members tests."""

import pytest
from factories import CouncilFactory, RegionFactory


@pytest.fixture
def region_x():
    return RegionFactory(name="Region X", slug="region-x")


@pytest.fixture
def council_x(region_x):
    return CouncilFactory(
        region=region_x, name="Oakfield Borough Council", short_name="Oakfield", gss_code="E0600001"
    )
