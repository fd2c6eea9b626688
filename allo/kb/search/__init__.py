"""Pure-Python French search over knowledge-base fiches (no Django import).

    docs = load_demo_docs()
    index = SearchIndex(docs, load_synonyms())
    response = index.search("j'ai perdu ma carte grise", limit=10, theme=None)

An index can be saved (`index.data.save(folder)`) and memory-mapped back (`IndexData.load`), then
searched with a small overlay of changed fiches (`index.with_changes`): see docs/search.md.
"""

from . import dense, rerank
from .analysis import analyze, fold
from .build import IndexData
from .document import LOCAL, OFFICIAL, SearchDoc, doc_from_mapping
from .evaluation import evaluate, read_questions
from .index import Hit, QueryError, SearchIndex, SearchResponse
from .loader import load_demo_docs
from .synonyms import load_groups, load_synonyms

__all__ = [
    "LOCAL", "OFFICIAL", "Hit", "IndexData", "QueryError", "SearchDoc", "SearchIndex", "SearchResponse", "analyze",
    "dense", "doc_from_mapping", "evaluate", "fold", "load_demo_docs", "load_groups", "load_synonyms", "read_questions", "rerank",
]
