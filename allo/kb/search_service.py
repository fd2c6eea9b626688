"""The search index of the published knowledge base (the Django adapter of the pure engine in
allo.kb.search).

Never a full build inside a request: a web process memory-maps the index that `allo search_index`
wrote under ALLO_DATA_DIR (the files are shared by every worker; a new version is renamed into place),
and searches it with a small overlay of the fiches changed since it was built. What changed is asked of
the database at most once a second (another process may have changed it; a change saved in this
process is seen at once, `index_may_be_stale` on the models' signals):

- a few fiches changed (<= INLINE_MAX): the overlay is rebuilt by the one request that sees it first,
  in tens of milliseconds, while concurrent requests keep the previous index;
- more (an import): a separate `allo search_index` process rebuilds and saves the whole index (the
  build's memory never lands in a web process) and this process loads it when it is written; until
  then the previous index answers;
- synonyms changed: they act on the query only, so the same index gets the new dictionary.

A knowledge base of at most SMALL_KB fiches (the demo, tests) has no files: it is built in memory.

The indexes of a process (one per database) are a `SearchIndexes`, built by the composition root
(allo.bootstrap) and installed with its other services; a web process warms it when it starts
serving. A process that never ran bootstrap() (a management command such as `allo kb eval`, a test
without the router's fixture) searches this module's default instance instead, empty until its
first search (making it costs a dictionary and a lock, so it is made at import), and gets it back
when the installed services are closed. `search_index()`, `warm()` and `index_may_be_stale()` act
on whichever is in use.
"""

from __future__ import annotations

import hashlib
import logging
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

from allo.kb.models import Fiche, Synonym
from allo.kb.services import fiche_to_record
from allo.web import metrics

logger = logging.getLogger(__name__)

STAMP_SECONDS = 1.0
INLINE_MAX = 50  # changed fiches an overlay absorbs inside a request (a few ms each)
OVERLAY_MAX = 300  # beyond, the whole index is rebuilt in the background
SMALL_KB = 500  # fiches: below, the index is built in memory (under a second), never saved

class _State:
    def __init__(self) -> None:
        self.index = None  # SearchIndex
        self.base_stamps: dict[str, str] = {}  # id -> updated_at of the base's fiches
        self.overlay_docs: dict = {}  # id -> SearchDoc changed since the base
        self.overlay_stamps: dict[str, str] = {}
        self.removed: set[str] = set()
        self.synonyms_stamp = None
        self.db_stamp = None
        self.checked = float("-inf")
        self.updating = threading.Lock()  # one request refreshes; the others keep the current index
        self.rebuilding: threading.Thread | None = None
        self.loaded_mtime = 0.0


def _encoder_cache() -> None:
    from django.conf import settings

    from allo.kb.search import dense

    dense.set_cache_dir(Path(settings.DATA_DIR) / "search")


def index_dir(using: str = "default") -> Path:
    """Where this database's index lives (one folder per database, so test databases never share it)."""
    from django.conf import settings
    from django.db import connections

    name = str(connections[using].settings_dict.get("NAME") or using)
    host = str(connections[using].settings_dict.get("HOST") or "")
    digest = hashlib.sha256(f"{connections[using].vendor}|{host}|{name}".encode()).hexdigest()[:12]
    return Path(settings.DATA_DIR) / "search" / f"index-{digest}"


# ---------------------------------------------------------------------------------------- database
def _published(using: str):
    return Fiche.objects.using(using).published()


def _db_stamp(using: str) -> tuple:
    from django.db.models import Count, Max

    fiches = _published(using).aggregate(n=Count("id"), last=Max("updated_at"), notes=Max("notes__updated_at"))
    return (fiches["n"], fiches["last"], fiches["notes"])


def _synonyms_stamp(using: str) -> tuple:
    from django.db.models import Count, Max

    s = Synonym.objects.using(using).aggregate(n=Count("id"), last=Max("updated_at"))
    return (s["n"], s["last"])


def _stamps(using: str) -> dict[str, str]:
    """Each published fiche's version as the index sees it: its own and its Allô notes' (the
    callers' words an editor adds there are searched with the fiche)."""
    return {i: u.isoformat() + (f"+{n.isoformat()}" if n else "")
            for i, u, n in _published(using).values_list("id", "updated_at", "notes__updated_at")}


def fiche_doc(fiche: Fiche):
    """One fiche as the engine's document (exactly as from the demo files, plus its collection)."""
    from allo.kb.search import doc_from_mapping

    record = fiche_to_record(fiche, with_state=False)
    for name in ("collection", "kind"):
        value = getattr(fiche, name, None)
        if value:
            record[name] = value
    notes = getattr(fiche, "notes", None)
    if notes is not None and notes.synonyms:  # the line's own words for a fiche, official or local
        record["callers_words"] = list(notes.synonyms)
    official = getattr(fiche, "official", None) if fiche.is_official else None
    if official is not None and official.search:
        record["search"] = official.search  # the importer's fields (title, description, headings, body...)
    return doc_from_mapping(record)


def search_docs(using: str = "default", ids=None):
    """The published fiches (or those of `ids`) as the engine's documents."""
    from allo.kb.models import OfficialText

    qs = _published(using).order_by("id").select_related("official", "notes").defer(
        *[f"official__{f.name}" for f in OfficialText._meta.concrete_fields if f.name in ("document", "text", "files")])
    if ids is not None:
        qs = qs.filter(id__in=list(ids))
    return [fiche_doc(f) for f in qs.iterator(chunk_size=200)]


def editor_synonyms(using: str = "default") -> dict[str, list[str]]:
    """Active synonym groups, in a database-independent order (Python sort, not the DB collation)."""
    from allo.kb.search.synonyms import groups_to_dict

    # the shipped dictionary is in this table too (loaded once, then the editors' to change)
    groups = sorted(s.term_list for s in Synonym.objects.using(using).filter(active=True))
    return groups_to_dict(groups)


# ---------------------------------------------------------------------------------------- building
def build_index(using: str = "default", *, force: bool = False) -> Path | None:
    """Build the whole index from the database and save it (what `allo search_index` runs; an import
    may call it too). Skipped when the saved index already holds exactly the published fiches."""
    import fcntl

    from allo.kb.search import SearchIndex

    folder = index_dir(using)
    folder.parent.mkdir(parents=True, exist_ok=True)
    _encoder_cache()
    with open(folder.parent / f"{folder.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one build at a time across processes: the next one finds it done
        stamps = _stamps(using)
        if not force:
            try:
                from allo.kb.search import IndexData

                if IndexData.load(folder).meta.get("stamps") == stamps:
                    return folder
            except (OSError, ValueError):
                pass
        t0 = time.monotonic()
        try:  # the previous index's dense vectors serve the fiches whose text did not change
            from allo.kb.search import IndexData

            previous = IndexData.load(folder)
        except (OSError, ValueError):
            previous = None
        index = SearchIndex(search_docs(using), reuse=previous)
        index.data.meta["stamps"] = stamps
        index.data.save(folder)
        logger.info("search index: %d fiches built and saved in %.1f s (%s)", len(stamps), time.monotonic() - t0,
                    folder)
        return folder


def _rebuild_in_background(using: str, state: _State) -> None:
    """Run `allo search_index` in its own process, then load what it wrote."""
    if state.rebuilding is not None and state.rebuilding.is_alive():
        return

    def run() -> None:
        try:
            subprocess.run([sys.executable, "-m", "allo", "search_index", "--database", using],
                           check=True, env=os.environ.copy(), stdout=subprocess.DEVNULL, timeout=3600)
        except (subprocess.SubprocessError, OSError):
            logger.exception("search index: background rebuild failed")
        finally:
            state.checked = float("-inf")  # the next search loads the new files

    state.rebuilding = threading.Thread(target=run, name="search-index-build", daemon=True)
    state.rebuilding.start()


def _load_saved(using: str, state: _State, synonyms) -> bool:
    """Memory-map the saved index if it is newer than the one in use."""
    from allo.kb.search import IndexData, SearchIndex

    folder = index_dir(using)
    try:
        mtime = (folder / "meta.json").stat().st_mtime
        if state.index is not None and mtime == state.loaded_mtime:
            return False
        data = IndexData.load(folder)
    except (OSError, ValueError):
        return False
    state.index = SearchIndex(synonyms=synonyms, data=data)
    state.base_stamps = dict(data.meta.get("stamps") or {})
    state.overlay_docs, state.overlay_stamps, state.removed = {}, {}, set()
    state.loaded_mtime = mtime
    return True


def _refresh(using: str, state: _State) -> None:
    from allo.kb.search import SearchIndex

    synonyms_stamp = _synonyms_stamp(using)
    db_stamp = _db_stamp(using)
    synonyms = None
    if synonyms_stamp != state.synonyms_stamp or state.index is None:
        synonyms = editor_synonyms(using)
    loaded = False
    if db_stamp[0] > SMALL_KB:
        loaded = _load_saved(using, state, synonyms if synonyms is not None else state.index.synonyms
                             if state.index is not None else editor_synonyms(using))
    if state.index is None:
        if db_stamp[0] <= SMALL_KB:  # the demo, tests: in memory, in well under a second
            stamps = _stamps(using)
            state.index = SearchIndex(search_docs(using), synonyms)
            state.base_stamps, state.overlay_docs, state.overlay_stamps, state.removed = stamps, {}, {}, set()
        else:  # no saved index yet: build it aside; meanwhile an empty index says so
            _rebuild_in_background(using, state)
            state.index = SearchIndex([], synonyms)
            state.base_stamps = {}
    elif db_stamp != state.db_stamp or loaded:
        stamps = _stamps(using)
        current = {**{i: s for i, s in state.base_stamps.items() if i not in state.removed},
                   **state.overlay_stamps}
        changed = {i for i, s in stamps.items() if current.get(i) != s}
        gone = set(current) - set(stamps)
        if changed or gone:
            small = len(changed) + len(gone) <= INLINE_MAX and len(state.overlay_docs) + len(changed) <= OVERLAY_MAX
            if small or db_stamp[0] <= SMALL_KB:
                for doc in search_docs(using, ids=changed):
                    state.overlay_docs[doc.id] = doc
                for i in changed:
                    state.overlay_stamps[i] = stamps[i]
                for i in gone:
                    state.overlay_docs.pop(i, None)
                    state.overlay_stamps.pop(i, None)
                state.removed = {i for i in state.base_stamps if i not in stamps}
                state.index = state.index.with_changes(list(state.overlay_docs.values()), state.removed)
            if not small and db_stamp[0] > SMALL_KB:
                _rebuild_in_background(using, state)
    if synonyms is not None and state.index.synonyms is not synonyms:
        state.index = state.index.with_synonyms(synonyms)
    state.synonyms_stamp, state.db_stamp = synonyms_stamp, db_stamp
    metrics.search_index_refreshed(state)  # /metrics: the generation and overlay in use


class SearchIndexes:
    """The search indexes of this process, one per database (see the module doc): each one's state
    (the index in use, its overlay, when the database was last asked, the background rebuild)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()  # guards the dictionary only: each state has its own `updating`
        self._states: dict[str, _State] = {}

    def _state(self, using: str) -> _State:
        with self._lock:
            if not self._states:
                _encoder_cache()
            return self._states.setdefault(using, _State())

    def index(self, using: str = "default"):
        """The current search index of the published knowledge base (see the module doc)."""
        state = self._state(using)
        now = time.monotonic()
        if state.index is not None and now - state.checked < STAMP_SECONDS:
            return state.index
        # one request refreshes; the others go on with the index as it is (never blocked by a refresh)
        if not state.updating.acquire(blocking=state.index is None):
            return state.index
        try:
            if state.index is None or time.monotonic() - state.checked >= STAMP_SECONDS:
                state.checked = time.monotonic()
                _refresh(using, state)
        finally:
            state.updating.release()
        return state.index

    def may_be_stale(self) -> None:
        """Ask the database again at the next search, whatever the time since the last check."""
        with self._lock:
            states = list(self._states.values())
        for state in states:
            state.checked = float("-inf")

    def warm(self, using: str = "default") -> None:
        """Load (or start building) the index when a server process starts, before its first search.
        The dense encoder loads in the background meanwhile (under a second with its tokenizer cached
        under ALLO_DATA_DIR); the searches of that second rank by the first pass alone."""
        try:
            self.index(using).search("carte d'identité", limit=1, snippets=1)
        except Exception:  # a server must start even if the knowledge base is not there yet
            logger.exception("search index: warm-up failed")


_default = SearchIndexes()  # searched by a process that never ran bootstrap() (see the module doc)
_installed: SearchIndexes | None = None  # set by allo.bootstrap only


def install(search: SearchIndexes | None) -> None:
    """Make `search` this process's search indexes (allo.bootstrap; None: back to the default)."""
    global _installed
    _installed = search


def indexes() -> SearchIndexes:
    """This process's search indexes: those bootstrap() installed, else the module's default."""
    installed = _installed
    return installed if installed is not None else _default


def search_index(using: str = "default"):
    """The current search index of the published knowledge base (see the module doc)."""
    return indexes().index(using)


def warm(using: str = "default") -> None:
    """Load (or start building) this process's index before its first search (SearchIndexes.warm)."""
    indexes().warm(using)


def index_may_be_stale(**kwargs) -> None:
    """A fiche, its notes or a synonym was saved or deleted in this process (the models' signals, and
    tests after a rollback): the next search asks the database at once. Both the installed indexes and
    the default are told: a test may close its services, then search the default again."""
    _default.may_be_stale()
    installed = _installed
    if installed is not None:
        installed.may_be_stale()
