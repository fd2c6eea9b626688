"""Pure-Python French search over knowledge-base fiches (no Django import).

    docs = load_demo_docs()
    index = SearchIndex(docs, load_synonyms())
    response = index.search("j'ai perdu ma carte grise", limit=10, theme=None)
"""

from .analysis import analyze, fold
from .evaluation import evaluate, read_questions
from .index import Hit, QueryError, SearchDoc, SearchIndex, SearchResponse
from .loader import doc_from_mapping, load_demo_docs
from .synonyms import load_groups, load_synonyms

__all__ = [
    "Hit", "QueryError", "SearchDoc", "SearchIndex", "SearchResponse", "analyze", "doc_from_mapping",
    "evaluate", "fold", "load_demo_docs", "load_groups", "load_synonyms", "read_questions",
]
