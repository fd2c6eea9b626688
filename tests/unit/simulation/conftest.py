from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _static_files_without_manifest():
    """Shadow the project-wide Django fixture: these tests are pure and run with -p no:django."""
