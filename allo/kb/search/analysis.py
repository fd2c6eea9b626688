"""French text analysis: case, accents, elisions, stop words, Snowball stemming.

Everything is folded before stemming (accents removed first) so that a caller who types
"identite" and a fiche that says "identité" reach the same stem.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import snowballstemmer

# Words split on anything that is not a letter or digit; apostrophes therefore cut elisions
# (l', d', qu', j', n', s', c', m', t') off, and the elided piece is a stop word below.
_WORD = re.compile(r"[^\W_]+", re.UNICODE)

_STOP_RAW = """
a à au aux avec ce ces c ça ca cela celle celui cet cette ceux chez comme dans de des du d elle elles en
et étaient était être eu eux il ils je j la le les l leur leurs lui ma mais me m même mes moi mon ne n
ni nos notre nous on ou où par pas pour qu que qui quoi sa se s ses son sur ta te t tes toi ton tu un une
vos votre vous y est sont suis es sommes êtes ai as avons avez ont avait avais avoir été
fait font faire faut doit dois dois-je peut peux puis-je pouvez veux veut voudrais vais va
comment quel quels quelle quelles quand combien pourquoi est-ce si alors donc car aussi très trop plus
moins bien tout tous toute toutes rien aucun aucune autre autres encore déjà ici là
svp bonjour merci madame monsieur euh ben bah oui non voilà c'est savoir cherche cherchais
depuis pendant avant après jamais toujours vraiment beaucoup peu chose choses quelque quelqu
truc machin bon ok ah oh hein dire dit aller vas allez vont ceci lequel laquelle
deux trois quatre cinq six sept huit neuf dix quelques plusieurs certain certaine certains
"""


def fold(text: str) -> str:
    """Lower-case and strip accents (é -> e, œ -> oe)."""
    text = text.lower().replace("œ", "oe").replace("æ", "ae")
    text = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in text if not unicodedata.combining(ch))


STOP_WORDS: frozenset[str] = frozenset(fold(w) for w in _STOP_RAW.split() if "-" not in w and "'" not in w)

_stemmer = snowballstemmer.stemmer("french")


@lru_cache(maxsize=200_000)
def stem(word: str) -> str:
    """Stem a folded word (Snowball French)."""
    if word.isdigit() or len(word) <= 3:
        return word
    if len(word) >= 5 and word[-1] == "s" and word[-2] != "s":
        word = word[:-1]  # plural first: Snowball keeps the s after a vowel (perçus / perçu)
    return _stemmer.stemWord(word)


@lru_cache(maxsize=200_000)
def _fold_word(word: str) -> str:
    return fold(word)


def words(text: str) -> list[tuple[int, int, str]]:
    """(start, end, folded word) for each word of the original text."""
    return [(m.start(), m.end(), _fold_word(m.group())) for m in _WORD.finditer(text or "")]


def is_stop(folded: str) -> bool:
    return folded in STOP_WORDS or (len(folded) == 1 and not folded.isdigit())


def analyze(text: str) -> list[str]:
    """Text -> list of stems, stop words and elided articles removed, order kept."""
    return [stem(w) for _, _, w in words(text) if not is_stop(w)]


_FOLD1: dict[int, str] = {}


def fold_same_length(text: str) -> str:
    """`fold` that keeps every character's position (œ -> o, not oe): offsets found in the folded
    text are offsets in the original, which is what highlighting needs."""
    missing = {ord(ch) for ch in set(text)} - _FOLD1.keys()
    for code in missing:
        folded = fold(chr(code))
        _FOLD1[code] = folded[0] if len(folded) >= 1 and len(chr(code).lower()) == 1 else chr(code)
    return text.translate(_FOLD1)


_TOKEN_STEM: dict[str, str] = {}


def stems_fast(text: str) -> list[str]:
    """`analyze` for indexing whole documents: one regex pass and one dict lookup per token (the
    real corpus is 39 million characters)."""
    out = []
    cache = _TOKEN_STEM
    for token in _WORD.findall(text.lower()):
        st = cache.get(token)
        if st is None:
            w = _fold_word(token)
            st = cache[token] = "" if is_stop(w) else stem(w)
            if len(cache) > 500_000:
                cache.clear()
        if st:
            out.append(st)
    return out


def folded_words_fast(text: str) -> set[str]:
    """The distinct folded non-stop words of a text (the typo-tolerance vocabulary)."""
    return {w for w in map(_fold_word, set(_WORD.findall(text.lower()))) if not is_stop(w)}
