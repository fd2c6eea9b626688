"""The service-public.fr open data (DILA "vosdroits" XML, schema 3.4/3.5) importer.

Pure Python, standard library only (no Django import: a unit test checks it).

    corpus = read_corpus(["part.zip", "pro.zip"], known={fiche id: digest already stored})
    corpus.fiches        # parsed (new or changed) fiches, merged across sites: metadata + document
    corpus.tree          # the theme tree (nodes) and where each fiche is listed (placements)
    corpus.resources     # forms, online services, contacts, definitions
    render_html(record["document"], link)   # the fiche in DSFR HTML
    search_fields(record)                   # what the search engine reads of it
"""

from .archives import Corpus, read_corpus
from .document import PARSER_VERSION, parse_fiche
from .elements import ELEMENTS
from .render import answers_from_choices, answers_from_query, guided_step, render_html, render_text
from .safexml import DilaFormatError
from .searchfields import search_fields

__all__ = [
    "ELEMENTS", "PARSER_VERSION", "Corpus", "DilaFormatError", "answers_from_choices", "answers_from_query",
    "guided_step", "parse_fiche", "read_corpus", "render_html", "render_text", "search_fields",
]

