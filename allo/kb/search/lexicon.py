"""Synonym groups learnt from the corpus itself, no hand-written answer in them.

DILA's fiches spell out their own vocabulary, and callers use either side of it:

- glossary abbreviations (`Abreviation`: "CSE" -> "Comité social et économique");
- acronyms introduced in the text, "contrat à durée indéterminée (CDI)", kept when the acronym's letters
  are the initials of the words before it (Schwartz & Hearst's rule, simplified);
- former and everyday names in parentheses: "Complémentaire santé solidaire (ex-CMU-C)",
  "Certificat d'immatriculation (ex-carte grise)", "Micro-entrepreneur (auto-entrepreneur)",
  "Saisie sur salaire (ou « saisie des rémunérations »)".

Each becomes a group of equivalent terms for the query-side synonym expansion (synonyms.py).
"""

from __future__ import annotations

import re
from collections import Counter

from .analysis import fold, is_stop
from .document import SearchDoc

_ACRONYM_IN_TEXT = re.compile(r"\s\(([A-Z][A-Za-z0-9+-]{1,9})\)")
_TITLE_ALIAS = re.compile(r"^([^()]{3,80}?)\s*\((ex-|ex |anciennement |ou |dit |dite |à présent appelée? |"
                          r"aussi appelée? |également appelée? )?[«\"]?\s*([^()]{3,40}?)\s*[»\"]?\)\s*$")
_LAST_COMPLEMENT = re.compile(r".*\s(?:du|des|de la|de l')\s*(?=\w)", re.IGNORECASE)
_WORD = re.compile(r"[^\W_]+")
_SMALL = {"de", "du", "des", "d", "la", "le", "les", "l", "et", "a", "à", "au", "aux", "en", "pour", "sur", "par"}


def _initials_match(words: list[str], acronym: str) -> int:
    """How many trailing words of `words` the acronym's letters are the initials of (0: none).

    Small words (de, la, à...) may be skipped; a hyphenated word may give one letter per part."""
    letters = [c for c in fold(acronym) if c.isalpha()]
    if not 2 <= len(letters) <= 8:
        return 0
    j, k = len(letters) - 1, len(words)
    while j >= 0 and k > 0:
        k -= 1
        w = fold(words[k])
        parts = [p for p in w.split("-") if p]
        if parts and all(j - x >= 0 and p[0] == letters[j - x] for x, p in enumerate(reversed(parts))):
            j -= len(parts)
        elif w and w[0] == letters[j]:
            j -= 1
        elif w not in _SMALL:
            return 0
    return len(words) - k if j < 0 else 0


def _acronym_pairs(text: str) -> list[tuple[str, str]]:
    out = []
    for m in _ACRONYM_IN_TEXT.finditer(text):
        acronym = m.group(1)
        if sum(c.isupper() for c in acronym) < 2:
            continue
        words = re.findall(r"[\w'’-]+", text[max(0, m.start() - 120):m.start()])[-10:]
        words = [w.split("'")[-1].split("’")[-1] for w in words]  # "d'identité" -> "identité"
        used = _initials_match(words, acronym)
        if used:
            phrase = " ".join(words[-used:])
            if phrase and fold(phrase.split()[0]) not in _SMALL:
                out.append((acronym, phrase))
    return out


def _content_words(text: str) -> list[str]:
    return [w for w in (fold(x) for x in _WORD.findall(text)) if not is_stop(w)]


def corpus_groups(docs: list[SearchDoc], min_count: int = 1) -> list[list[str]]:
    """Synonym groups read from the fiches (see module doc), sorted for a stable result."""
    pairs: Counter = Counter()
    for d in docs:
        for term, text in d.definitions:
            # glossary abbreviations: a short acronym defined by a short expansion
            if len(term) <= 10 and sum(c.isupper() for c in term) >= 2 and len(text.split()) <= 10:
                expansion = re.split(r"[.;(]", text)[0].strip()
                if expansion and len(_content_words(expansion)) >= 1:
                    pairs[(term.strip(), expansion)] += 1
        m = _TITLE_ALIAS.match(d.title or "")
        if m:
            head, prefix, alias = m.group(1).split(" : ")[-1].strip(" -–:"), m.group(2), m.group(3).strip()
            if len(_content_words(head)) > 3 and prefix:  # "Titulaire ... du certificat d'immatriculation"
                head = _LAST_COMPLEMENT.sub("", head)
            n_alias = len(_content_words(alias))
            if 1 <= len(_content_words(head)) <= 3 and " - " not in head and (
                    (prefix and n_alias <= 4) or (n_alias == 1 and len(alias.split()) == 1)):
                pairs[(head, alias)] += 1
        for text in (d.title, d.short_answer, d.body[:20000]):
            for acronym, phrase in _acronym_pairs(text or ""):
                pairs[(acronym, phrase)] += 1
    # one group per pair: an acronym with two meanings (PV: procès-verbal, poids à vide) must not
    # make its two expansions synonyms of each other
    groups: dict[tuple[str, str], set[str]] = {}
    for (a, b), count in sorted(pairs.items()):
        if count < min_count or fold(a) == fold(b):
            continue
        groups.setdefault((fold(a), " ".join(_content_words(b))), set()).update([a, b])
    return sorted(sorted(g) for g in groups.values() if len(g) >= 2)
