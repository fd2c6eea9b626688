"""Words of everyday French, to tell a caller's real word from a typo.

A word the knowledge base does not hold was "corrected" to the nearest indexed word whatever it was:
« tarte » became « tante », « dispute » « discute », « valises » « valides ». On our fit and held-out
questions nearly every such correction of a real French word was wrong, and of a typo right
(« ocasion », « trotinette »). The list is pyspellchecker's French one (140,000 words seen at least
50 times in film subtitles, MIT), folded as the analysis folds (accents, case), and kept as the sorted
64-bit keys the index gives its terms (1 MB, where a set of the words took 15).

Read-only data from a shipped file, loaded once per process (in the background when an index is
mapped) and never changed: it may stay lazy, outside the composition root (allo.bootstrap).
"""

from __future__ import annotations

import gzip
import json
import threading
from importlib import resources

import numpy as np

from .analysis import fold
from .build import keys_of

_words: np.ndarray | None = None
_lock = threading.Lock()


def french_words() -> np.ndarray:
    global _words
    if _words is None:
        with _lock:  # a search waits for the background load rather than parse the list a second time
            if _words is None:
                raw = resources.files("spellchecker").joinpath("resources/fr.json.gz").read_bytes()
                folded = {fold(word) if not word.isascii() else word for word in json.loads(gzip.decompress(raw))}
                _words = np.unique(keys_of(folded))
    return _words


def preload() -> None:
    """Read the list in the background (about a second) when a process maps its index."""
    if _words is None:
        threading.Thread(target=french_words, name="french-words-load", daemon=True).start()


def is_french_word(folded: str) -> bool:
    words = french_words()
    key = keys_of([folded])[0]
    at = int(np.searchsorted(words, key))
    return bool(at < len(words) and words[at] == key)
