"""One BLAS thread for the duration of a search.

A search multiplies small matrices (a question's vector by a few thousand fiches'); OpenBLAS splits
them over its threads, which on a 2-core machine shared with the web server's other threads costs
more than it saves: the real corpus's p50 went from 34 to 14 ms, p95 from 53 to 17 ms with one thread
(bench/bench_search.py --real, loaded machine). Scoped, not process-wide: an index build in the same
process keeps its threads for the SVD.

The controller is built once per process, lazily, and never changes (a scan of the loaded libraries):
not a service of the composition root (allo.bootstrap), which has nothing to start or stop here.
"""

from __future__ import annotations

import contextlib
import threading

_lock = threading.Lock()
_controller = None
_failed = False


def single_thread():
    global _controller, _failed
    if _controller is None and not _failed:
        with _lock:
            if _controller is None and not _failed:
                try:
                    from threadpoolctl import ThreadpoolController

                    _controller = ThreadpoolController()  # scans the loaded libraries once
                except Exception:  # no threadpoolctl: searches use the library's threads
                    _failed = True
    if _controller is None:
        return contextlib.nullcontext()
    return _controller.limit(limits=1, user_api="blas")
