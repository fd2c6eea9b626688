"""Synonym and abbreviation groups: loading, and matching phrases on stem sequences.

Each group of equivalent terms becomes one *concept* token (``~...``) added wherever any of its
terms occurs, in fiches and in queries alike; "carte grise" and "certificat d'immatriculation"
then meet on the same token, multi-word terms included.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from .analysis import _fold_word as fold
from .analysis import folded_words_fast, stems_fast

DEFAULT_SYNONYMS = Path(__file__).with_name("synonyms_fr.yaml")


def load_groups(path: str | Path | None = None) -> list[list[str]]:
    """Read a YAML list of groups (each a list of equivalent terms)."""
    with open(path or DEFAULT_SYNONYMS, encoding="utf-8") as fh:
        data = yaml.safe_load(fh) or []
    if isinstance(data, dict):  # tolerate {groups: [...]}
        data = data.get("groups", [])
    groups = []
    for i, group in enumerate(data):
        if not isinstance(group, list) or not all(isinstance(t, str | int) for t in group):
            raise ValueError(f"{path or DEFAULT_SYNONYMS}: group {i + 1} is not a list of terms")
        terms = [str(t).strip() for t in group if str(t).strip()]
        if len(terms) >= 2:
            groups.append(terms)
    return groups


def groups_to_dict(groups: list[list[str]]) -> dict[str, list[str]]:
    """Groups -> {term: [its equivalents]} (a term in several groups gets all of them)."""
    out: dict[str, list[str]] = {}
    for group in groups:
        for term in group:
            others = out.setdefault(term, [])
            others.extend(t for t in group if t != term and t not in others)
    return out


def load_synonyms(path: str | Path | None = None) -> dict[str, list[str]]:
    """The shipped (or given) dictionary as {term: [equivalent terms]}."""
    return groups_to_dict(load_groups(path))


class SynonymMatcher:
    """Finds group terms in a stem sequence and names the concept tokens they stand for."""

    def __init__(self, synonyms: dict[str, list[str]] | None, extra_groups: list[list[str]] | None = None):
        groups: set[frozenset[str]] = set()
        for term, others in (synonyms or {}).items():
            group = frozenset(fold(t).strip() for t in [term, *others] if str(t).strip())
            if len(group) >= 2:
                groups.add(group)
        # A term listed in several groups maps to their union: keep the original groups only.
        groups = {g for g in groups
                  if not ((subs := [h for h in groups if h < g]) and frozenset().union(*subs) == g)}
        # groups read from the corpus (lexicon.py) are kept apart: an acronym's two meanings stay two
        for group in extra_groups or []:
            g = frozenset(fold(t).strip() for t in group if str(t).strip())
            if len(g) >= 2:
                groups.add(g)
        self.phrases: dict[tuple[str, ...], set[str]] = {}
        self.members: dict[str, list[tuple[str, ...]]] = {}  # concept -> its terms' stem sequences
        self.surface: set[str] = set()  # folded words appearing in any term
        used: set[str] = set()
        for group in sorted(groups, key=sorted):
            seqs = sorted({tuple(stems_fast(t)) for t in group} - {()})
            if len(seqs) < 2:
                continue
            concept = "~" + "_".join(seqs[0])
            while concept in used:
                concept += "'"
            used.add(concept)
            self.members[concept] = seqs
            for seq in seqs:
                self.phrases.setdefault(seq, set()).add(concept)
            for t in group:
                self.surface.update(folded_words_fast(t))
        self.stems = {st for seq in self.phrases for st in seq}
        by_first: dict[str, set[int]] = {}
        for seq in self.phrases:
            by_first.setdefault(seq[0], set()).add(len(seq))
        self.lengths_by_first = {st: tuple(sorted(ls)) for st, ls in by_first.items()}
        self.max_len = max((len(s) for s in self.phrases), default=0)

    def match(self, stems: list[str]) -> list[tuple[int, int, str]]:
        """(start, end, concept) for every group term found in the stem sequence."""
        out = []
        n = len(stems)
        lengths = self.lengths_by_first
        for i in range(n):
            for length in lengths.get(stems[i], ()):
                if i + length <= n:
                    concepts = self.phrases.get(tuple(stems[i:i + length]))
                    if concepts:
                        out.extend((i, i + length, c) for c in sorted(concepts))
        return out
