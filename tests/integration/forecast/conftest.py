"""A month of call records with a known shape, for the forecast's integration tests."""

from __future__ import annotations

import datetime as dt
import io

import numpy as np
import pytest
from django.core.management import call_command

HEADER = "arrived_at,queue,outcome,waited_s,talk_s\n"
FIRST = dt.date(2026, 3, 2)  # a Monday; five weeks to Sunday 5 April (UTC+1, then UTC+2 from 29 March)


def month_csv(tmp_path, weeks: int = 5, seed: int = 2) -> str:
    """Monday to Friday, 09:00-12:00 only, Monday twice as busy; waits and abandons for the patience."""
    rng = np.random.default_rng(seed)
    lines = [HEADER]
    for i in range(weeks * 7):
        day = FIRST + dt.timedelta(days=i)
        if day.weekday() >= 5:
            continue
        offset = "+02:00" if day >= dt.date(2026, 3, 29) else "+01:00"
        for hour in (9, 10, 11):
            for s in np.sort(rng.integers(0, 3600, rng.poisson(40 if day.weekday() == 0 else 20))):
                abandoned = rng.random() < 0.2
                lines.append(f"{day}T{hour:02d}:{s // 60:02d}:{s % 60:02d}{offset},n1,"
                             f"{'abandoned' if abandoned else 'answered'},{rng.exponential(40):.1f},"
                             f"{0 if abandoned else 180}\n")
    path = tmp_path / "appels.csv"
    path.write_text("".join(lines), encoding="utf-8")
    return str(path)


@pytest.fixture
def imported(demo, tmp_path):
    """That month imported (`allo history import`): records and their stored bins."""
    call_command("history", "import", month_csv(tmp_path), stdout=io.StringIO())
