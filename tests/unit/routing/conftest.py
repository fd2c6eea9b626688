from __future__ import annotations

import pytest
from routing_helpers import make_config

from allo.routing.engine import Engine


@pytest.fixture(autouse=True)
def _static_files_without_manifest():
    """Shadow the project-wide Django fixture: these tests are pure and run with -p no:django."""


@pytest.fixture
def engine() -> Engine:
    return Engine(make_config())
