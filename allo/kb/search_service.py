"""The search index of the published knowledge base in this process (the Django adapter of the pure
engine in allo.kb.search)."""

from __future__ import annotations

import time

from allo.kb.models import Fiche, Synonym
from allo.kb.services import fiche_to_record

# The ranking is the pure engine of allo.kb.search; this adapter feeds it the published fiches and
# the editors' synonyms, and rebuilds it when either changes. Whether they changed is asked of the
# database at most once a second (another process may have changed them); a change saved in this
# process is seen at once (index_may_be_stale, on the models' signals).

STAMP_SECONDS = 1.0
_index_cache: dict[str, object] = {}
_stamp_checked: dict[str, float] = {}  # database alias -> monotonic time of the last check


def index_may_be_stale(**kwargs) -> None:
    _stamp_checked.clear()


def _index_stamp(using: str) -> tuple:
    from django.db.models import Count, Max

    fiches = Fiche.objects.using(using).published().aggregate(n=Count("id"), last=Max("updated_at"))
    synonyms = Synonym.objects.using(using).aggregate(n=Count("id"), last=Max("updated_at"))
    return (fiches["n"], fiches["last"], synonyms["n"], synonyms["last"])


def search_docs(using: str = "default"):
    """The published fiches as the engine's documents (built exactly as from the demo files)."""
    from allo.kb.search import doc_from_mapping

    return [doc_from_mapping(fiche_to_record(f, with_state=False))
            for f in Fiche.objects.using(using).published().order_by("id")]


def editor_synonyms(using: str = "default") -> dict[str, list[str]]:
    """Active synonym groups, in a database-independent order (Python sort, not the DB collation)."""
    from allo.kb.search.synonyms import groups_to_dict

    groups = sorted(s.term_list for s in Synonym.objects.using(using).filter(active=True))
    return groups_to_dict(groups)


def search_index(using: str = "default"):
    """The current search index of the published knowledge base (built once per change)."""
    from allo.kb.search import SearchIndex

    cached = _index_cache.get(using)
    now = time.monotonic()
    if cached is not None and now - _stamp_checked.get(using, float("-inf")) < STAMP_SECONDS:
        return cached[1]
    stamp = _index_stamp(using)
    _stamp_checked[using] = now
    if cached is None or cached[0] != stamp:
        cached = (stamp, SearchIndex(search_docs(using), synonyms=editor_synonyms(using)))
        _index_cache[using] = cached
    return cached[1]
