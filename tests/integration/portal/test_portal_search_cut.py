"""Which hits a citizen is shown (allo.portal.views.relevant_hits): the re-ranked scores fall steeply
below a confident first hit, so a first page is always shown and only the tail is cut."""

from __future__ import annotations

import math

import pytest

from allo.kb.search.index import Hit
from allo.kb.search.rerank import SCORE_SCALE
from allo.portal.views import ALWAYS_SHOWN, RELEVANT_SHARE, relevant_hits


def hits(differences: list[float]) -> list[Hit]:
    """Hits scored as the re-ranking shows them: exp(-(difference to the best) / SCORE_SCALE)."""
    return [Hit(f"F{i}", f"Fiche {i}", "logement", round(math.exp(-d / SCORE_SCALE), 4), 0.5, "")
            for i, d in enumerate(differences)]


def test_a_confident_first_hit_does_not_hide_the_next_ones():
    # the first hit 4.2 above the rest (a local fiche and its dense cosine): all under 0.2 of it
    ranked = hits([0.0] + [4.2 + 0.1 * i for i in range(30)])
    assert all(h.score < RELEVANT_SHARE for h in ranked[1:])
    assert [h.id for h in relevant_hits(ranked)] == [h.id for h in ranked[:ALWAYS_SHOWN]]


def test_beyond_the_first_page_the_weak_tail_is_cut():
    ranked = hits([0.1 * i for i in range(30)] + [5.0 + i for i in range(10)])
    shown = relevant_hits(ranked)
    assert len(shown) == 30 and shown[-1].id == "F29"


@pytest.mark.parametrize("count", [0, 1, 3])
def test_fewer_hits_than_a_page_are_all_shown(count):
    assert len(relevant_hits(hits([3.0 * i for i in range(count)]))) == count
