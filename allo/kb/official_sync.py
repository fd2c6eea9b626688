"""`allo kb sync`: fetch DILA's daily archives (or take local ones) and import what changed.

DILA republishes each site's archive every day at a fixed address. The download is conditional
(If-None-Match / If-Modified-Since from the last copy kept under ALLO_DATA_DIR/dila/), written to
a temporary file and renamed only once complete and readable as a zip, so an interrupted download
never replaces the last good copy. Then the archives are imported together (official_import).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import urllib.error
import urllib.request
import zipfile
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlparse

from django.conf import settings

# The addresses DILA publishes the archives at (schema 3.4); ALLO_DILA_SOURCES overrides them.
DEFAULT_SOURCES = (
    "https://lecomarquage.service-public.fr/vdd/3.4/part/zip/vosdroits-latest.zip",
    "https://lecomarquage.service-public.fr/vdd/3.4/pro/zip/vosdroits-latest.zip",
)
MAX_DOWNLOAD_BYTES = 512 * 1024 * 1024  # today's archives weigh 6 and 18 MB
TIMEOUT_SECONDS = 60
Progress = Callable[[str, int, int], None]


class SyncError(Exception):
    """A source that cannot be fetched; the message is French and names it."""


def configured_sources() -> list[str]:
    raw = os.environ.get("ALLO_DILA_SOURCES", "")
    return [s.strip() for s in raw.split(",") if s.strip()] or list(DEFAULT_SOURCES)


def cache_dir() -> Path:
    return Path(settings.DATA_DIR) / "dila"


def _local_name(url: str) -> str:
    parsed = urlparse(url)
    parts = [p for p in parsed.path.split("/") if p]
    # .../part/zip/vosdroits-latest.zip -> part-vosdroits-latest.zip: the site tells two archives apart.
    site = parts[-3] if len(parts) >= 3 else parsed.netloc
    return f"{site}-{parts[-1] if parts else 'archive.zip'}"


def fetch(source: str, progress: Progress | None = None) -> tuple[Path, bool]:
    """A local path for `source` (a URL is downloaded, a path is taken as is), and whether it changed."""
    if not source.startswith(("http://", "https://")):
        path = Path(source)
        if not path.exists():
            raise SyncError(f"{source} : fichier ou dossier introuvable.")
        return path, True
    folder = cache_dir()
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / _local_name(source)
    meta_path = target.with_suffix(".json")
    meta = json.loads(meta_path.read_text()) if meta_path.exists() and target.exists() else {}
    request = urllib.request.Request(source, headers={"User-Agent": "Allo-kb-sync/1"})
    if meta.get("etag"):
        request.add_header("If-None-Match", meta["etag"])
    if meta.get("last_modified"):
        request.add_header("If-Modified-Since", meta["last_modified"])
    try:
        response = urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS)  # noqa: S310 - http(s) only, checked above
    except urllib.error.HTTPError as exc:
        if exc.code == 304:
            return target, False
        raise SyncError(f"{source} : le serveur a répondu {exc.code} ({exc.reason}).") from None
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise SyncError(f"{source} : téléchargement impossible ({reason}).") from None
    with response:
        total = int(response.headers.get("Content-Length") or 0)
        if total > MAX_DOWNLOAD_BYTES:
            raise SyncError(f"{source} : archive trop volumineuse ({total} octets).")
        handle, tmp_name = tempfile.mkstemp(dir=folder, suffix=".part")
        done = 0
        try:
            with os.fdopen(handle, "wb") as out:
                while chunk := response.read(1 << 20):
                    done += len(chunk)
                    if done > MAX_DOWNLOAD_BYTES:
                        raise SyncError(f"{source} : archive trop volumineuse (plus de {MAX_DOWNLOAD_BYTES} octets).")
                    out.write(chunk)
                    if progress:
                        progress(f"téléchargement {_local_name(source)}", done, total or done)
            if total and done != total:
                raise SyncError(f"{source} : téléchargement interrompu ({done} octets sur {total}).")
            if not zipfile.is_zipfile(tmp_name):
                raise SyncError(f"{source} : le fichier reçu n'est pas une archive zip.")
            shutil.move(tmp_name, target)
        finally:
            if os.path.exists(tmp_name):
                os.unlink(tmp_name)
        meta_path.write_text(json.dumps({"url": source, "etag": response.headers.get("ETag", ""),
                                         "last_modified": response.headers.get("Last-Modified", "")}))
    return target, True
