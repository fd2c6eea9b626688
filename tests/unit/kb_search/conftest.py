"""The search engine is pure Python: these tests also run with `-p no:django`."""

import pytest


@pytest.fixture(autouse=True)
def _static_files_without_manifest():
    """Overrides the project-wide autouse fixture, which needs pytest-django's `settings`."""
    yield
