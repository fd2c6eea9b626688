"""Reading DILA archives (zips, folders, or single files) into one corpus, all or nothing.

Several archives are one knowledge base: Particuliers (with Associations) and Professionnels
publish 108 fiches on both sites; such a fiche is one record with all its audiences and one path
per site. Archives are read in a fixed order (Particuliers first), whatever the order given, so a
re-import is stable.

A fiche's `digest` names the bytes of its files (zip CRC and size, site) and the parser version;
given the digests already stored, unchanged fiches are not parsed again (`Corpus.unchanged`):
that is what makes the daily no-change re-import fast.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import re
import zipfile
import zlib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from xml.etree import ElementTree as ET

from . import resources
from .coverage import unknown_kinds
from .document import PARSER_VERSION, parse_fiche
from .nodes import Tree
from .safexml import MAX_FILE_BYTES, DilaFormatError, Source

logger = logging.getLogger(__name__)

_PARENT = re.compile(rb'<DossierPere ID="([^"]+)"')
_FILE = re.compile(r"^(?P<kind>[FNR])\d[\w-]*\.xml$", re.IGNORECASE)
INDEX_FILES = ("accueil.xml", "menu.xml", "centresDeContact.xml", "commentFaireSi.xml", "questionsReponses.xml",
               "servicesEnLigne.xml", "redirections.xml", "idxDateModifImp.xml")
# An archive's limits, well above DILA's (part.zip: 5,271 files, 81 MB once uncompressed), so that a
# crafted zip (thousands of members, or a few that inflate a thousandfold) is refused before it is
# read, not after it has filled the memory. Declared sizes can lie: the bytes actually read count too.
MAX_MEMBERS = 50_000
MAX_ARCHIVE_BYTES = 512 * 1024 * 1024
SITE_ORDER = {"particulier": 0, "association": 1, "professionnel": 2, "": 3}
Progress = Callable[[str, int, int], None]  # (phase, done, total)


@dataclass
class Member:
    archive: str
    name: str
    crc: int
    size: int
    read: Callable[[], bytes]

    @property
    def base(self) -> str:
        return self.name.rsplit("/", 1)[-1]


@dataclass
class Archive:
    path: str
    site: str = ""
    date: str | None = None
    sha256: str = ""
    size: int = 0
    members: list[Member] = field(default_factory=list)


@dataclass
class Corpus:
    archives: list[Archive]
    fiches: dict[str, dict]  # parsed (new or changed) fiches, merged across sites
    unchanged: set[str]  # fiche ids whose digest matched: not parsed
    digests: dict[str, str]  # every fiche id in the archives -> its digest
    tree: Tree
    resources: dict[str, dict]
    redirects: list[dict]
    lists: dict[str, dict[str, list[dict]]]  # site -> index lists
    labels: dict[str, list[str]]  # variable -> [label when true, label when false], from parsed fiches
    census: Counter  # element kinds met in the parsed fiches -> number of files
    unknown: Counter  # element kinds the importer does not know -> number of files
    unknown_files: dict[str, list[str]] = field(default_factory=dict)
    coverage: dict[str, list[int]] = field(default_factory=dict)  # kind -> [words rendered, words], with census


def open_archives(paths: list[str | Path], stack: contextlib.ExitStack) -> list[Archive]:
    archives = []
    seen: set[str] = set()
    for raw in paths:
        path = Path(raw)
        key = str(path.resolve())
        if key in seen:
            continue
        seen.add(key)
        archives.append(_open(path, stack))
    for archive in archives:
        _identify(archive)
    archives.sort(key=lambda a: (SITE_ORDER.get(a.site, 3), a.path))
    return archives


def _open(path: Path, stack: contextlib.ExitStack) -> Archive:
    if not path.exists():
        raise DilaFormatError(f"{path} : fichier ou dossier introuvable", filename=str(path))
    if path.is_dir():
        archive = Archive(str(path))
        for file in sorted(path.rglob("*.xml")):
            if _FILE.match(file.name) or file.name in INDEX_FILES:
                stat = file.stat()
                archive.members.append(Member(str(path), str(file.relative_to(path)), _file_crc(file), stat.st_size,
                                              lambda file=file: _read_file(file)))
        _check_limits(archive, len(archive.members), sum(m.size for m in archive.members))
        return archive
    if path.suffix.lower() == ".xml":
        stat = path.stat()
        return Archive(str(path), members=[Member(str(path), path.name, _file_crc(path), stat.st_size,
                                                  lambda: _read_file(path))])
    try:
        zf = stack.enter_context(zipfile.ZipFile(path))
    except zipfile.BadZipFile:
        raise DilaFormatError(f"{path.name} : ni dossier, ni archive .zip lisible, ni fichier XML",
                              filename=path.name) from None
    archive = Archive(str(path), sha256=_sha256(path), size=path.stat().st_size)
    budget = [MAX_ARCHIVE_BYTES]
    infos = zf.infolist()
    _check_limits(archive, len(infos), sum(i.file_size for i in infos))
    for info in sorted(infos, key=lambda i: i.filename):
        base = info.filename.rsplit("/", 1)[-1]
        if info.is_dir() or not (_FILE.match(base) or base in INDEX_FILES):
            continue
        archive.members.append(Member(str(path), info.filename, info.CRC, info.file_size, _zip_reader(zf, info, budget)))
    return archive


def _check_limits(archive: Archive, members: int, declared_bytes: int) -> None:
    name = Path(archive.path).name
    if members > MAX_MEMBERS:
        count = f"{MAX_MEMBERS:,}".replace(",", "\u202f")  # French digit grouping
        raise DilaFormatError(f"{name} : archive refusée, plus de {count} fichiers",
                              filename=name)
    if declared_bytes > MAX_ARCHIVE_BYTES:
        raise DilaFormatError(f"{name} : archive refusée, plus de {MAX_ARCHIVE_BYTES // 2**20} Mo une fois décompressée",
                              filename=name)


def _zip_reader(zf: zipfile.ZipFile, info: zipfile.ZipInfo, budget: list[int]):
    """Reads one member, at most the cap plus one byte whatever its header says, and takes what it
    read from the archive's budget (shared by its members)."""
    def read() -> bytes:
        with zf.open(info) as handle:
            data = handle.read(MAX_FILE_BYTES + 1)
        if len(data) > MAX_FILE_BYTES:
            raise DilaFormatError(f"{info.filename} : fichier trop volumineux ({MAX_FILE_BYTES} octets au plus)",
                                  filename=info.filename)
        budget[0] -= len(data)
        if budget[0] < 0:
            name = Path(zf.filename or "").name
            raise DilaFormatError(f"{name} : archive refusée, plus de {MAX_ARCHIVE_BYTES // 2**20} Mo une fois "
                                  f"décompressée", filename=name)
        return data
    return read


def _read_file(path: Path) -> bytes:
    if path.stat().st_size > MAX_FILE_BYTES:
        raise DilaFormatError(f"{path.name} : fichier trop volumineux ({MAX_FILE_BYTES} octets au plus)",
                              filename=path.name)
    return path.read_bytes()


def _file_crc(path: Path) -> int:
    return zlib.crc32(path.read_bytes()) if path.stat().st_size <= MAX_FILE_BYTES else -1


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _identify(archive: Archive) -> None:
    """Which site an archive is (from its menu, else its first fiche), and the date of its data."""
    by_base = {m.base: m for m in archive.members}
    menu = by_base.get("menu.xml")
    if menu is not None:
        data = menu.read()
        archive.site = resources.site_of(data, menu.name)
        archive.date = resources.archive_date(data, menu.name)
    if not archive.site:
        first = next((m for m in archive.members if m.base.upper().startswith("F")), None)
        if first is not None:
            root = Source(first.read(), first.name).root
            niveau = root.find("FilDAriane/Niveau")
            from .document import AUDIENCE_KEYS

            archive.site = AUDIENCE_KEYS.get(niveau.get("ID", "") if niveau is not None else "", "")


def digest_of(files: list[tuple[str, str, int, int]]) -> str:
    """(site, file name, crc, size) of a fiche's files, and the parser version -> its digest."""
    text = f"v{PARSER_VERSION}|" + "|".join(f"{s}:{n}:{c}:{z}" for s, n, c, z in sorted(files))
    return hashlib.sha256(text.encode()).hexdigest()


def read_corpus(paths: list[str | Path], known: dict[str, str] | None = None, *,
                progress: Progress | None = None, census: bool = False) -> Corpus:
    """Read every archive; parse the fiches whose digest is not in `known` (id -> digest).

    `census` parses every fiche (for the full element report), whatever `known` says.
    Raises DilaFormatError listing every bad file; nothing is returned then.
    """
    known = known or {}
    with contextlib.ExitStack() as stack:
        archives = open_archives(paths, stack)
        return _read(archives, known, progress, census)


def _read(archives: list[Archive], known: dict[str, str], progress: Progress | None, census: bool) -> Corpus:
    errors: list[DilaFormatError] = []
    tree = Tree()
    res: dict[str, dict] = {}
    redirects: list[dict] = []
    lists: dict[str, dict[str, list[dict]]] = {}
    files_of: dict[str, list[tuple[Archive, Member]]] = {}

    def guard(fn, *args):
        try:
            return fn(*args)
        except DilaFormatError as exc:
            errors.append(exc)
        except (zipfile.BadZipFile, zlib.error, OSError) as exc:
            errors.append(DilaFormatError(f"{args[-1] if args else '?'} : lecture impossible ({exc})"))
        return None

    for archive in archives:
        site_lists = lists.setdefault(archive.site or archive.path, {})
        for member in archive.members:
            base = member.base
            match = _FILE.match(base)
            if match and match.group("kind").upper() == "F":
                files_of.setdefault(base[:-4].upper(), []).append((archive, member))
            elif match and match.group("kind").upper() == "N":
                data = guard(member.read)
                if data is not None:
                    guard(tree.add_page, data, member.name)
            elif match:  # R
                data = guard(member.read)
                if data is not None:
                    record = guard(resources.parse_resource, data, member.name)
                    if record:
                        _merge_resource(res, record)
            elif base == "menu.xml":
                data = guard(member.read)
                if data is not None:
                    guard(tree.add_menu, data, member.name)
            elif base == "centresDeContact.xml":
                data = guard(member.read)
                for contact in (guard(resources.parse_contacts, data, member.name) or []) if data else []:
                    res.setdefault(contact["id"], {**contact, "url": "", "cerfa": "", "other_number": "",
                                                   "description": "", "notices": [], "audiences": [archive.site],
                                                   "modified": None, "fiches": []})
            elif base == "redirections.xml":
                data = guard(member.read)
                redirects += (guard(resources.parse_redirections, data, member.name) or []) if data else []
            elif base in ("accueil.xml", "commentFaireSi.xml", "questionsReponses.xml", "servicesEnLigne.xml"):
                data = guard(member.read)
                if data is not None:
                    site_lists[base[:-4]] = guard(resources.parse_list, data, member.name) or {}

    fiches: dict[str, dict] = {}
    unchanged: set[str] = set()
    digests: dict[str, str] = {}
    labels: dict[str, list[str]] = {}
    kinds: Counter = Counter()
    unknown: Counter = Counter()
    unknown_files: dict[str, list[str]] = {}
    coverage: dict[str, list[int]] = {}
    total = len(files_of)
    for done, (fiche_id, members) in enumerate(sorted(files_of.items(), key=lambda kv: _id_key(kv[0])), 1):
        if progress:
            progress("fiches", done, total)
        digest = digest_of([(a.site, m.base, m.crc, m.size) for a, m in members])
        parse = census or known.get(fiche_id) != digest
        records = []
        for archive, member in members:
            data = guard(member.read)
            if data is None:
                continue
            if not parse:
                # Unchanged: only its place in the tree matters. Its dossier's page usually lists it
                # already; the file is parsed only when that page is missing from the archive.
                match = _PARENT.search(data)
                if match and tree.is_listed(match.group(1).decode()):
                    tree.note_parent(fiche_id, match.group(1).decode())
                    continue
                root = guard(_root, data, member.name)
                if root is not None:
                    tree.add_fiche_parent(root, archive.site)
                continue
            record = guard(parse_fiche, data, member.name)
            if record is None:
                continue
            root = ET.fromstring(data)
            tree.add_fiche_parent(root, archive.site)
            met = {el.tag.rsplit("}", 1)[-1] for el in root.iter()}
            kinds.update(met)
            for kind in unknown_kinds(root):
                unknown[kind] += 1
                unknown_files.setdefault(kind, []).append(member.name)
            if census:
                _measure(root, record, coverage)
            records.append((archive, record))
        if len(records) != len(members) and parse:
            continue  # its error is in `errors`
        digests[fiche_id] = digest
        if not parse:
            unchanged.add(fiche_id)
            continue
        merged = _merge([r for _, r in records], [a for a, _ in records])
        merged["digest"] = digest
        merged["files"] = [{"archive": Path(a.path).name, "site": a.site, "name": m.name, "crc": m.crc, "size": m.size}
                           for a, m in members]
        for var, pair in merged["document"].get("defines", {}).items():
            slot = labels.setdefault(var, ["", ""])
            slot[0] = slot[0] or pair[0]
            slot[1] = slot[1] or pair[1]
        fiches[fiche_id] = merged
    if errors:
        first = errors[0]
        message = str(first) if len(errors) == 1 else (
            f"{len(errors)} fichiers invalides, rien n'a été importé :\n" + "\n".join(f"- {e}" for e in errors[:50])
            + (f"\n… et {len(errors) - 50} autres" if len(errors) > 50 else ""))
        raise DilaFormatError(message, filename=first.filename, element=first.element, line=first.line,
                              errors=[str(e) for e in errors])
    if not digests:
        names = ", ".join(Path(a.path).name for a in archives)
        raise DilaFormatError(f"{names} : aucune fiche F*.xml trouvée", filename=names)
    tree.place_orphans()
    _glossary_resources(fiches, res)
    logger.info("DILA archives read: %d fiches (%d parsed, %d unchanged), %d nodes, %d resources",
                len(digests), len(fiches), len(unchanged), len(tree.nodes), len(res))
    return Corpus(archives, fiches, unchanged, digests, tree, res, _dedupe_redirects(redirects), lists, labels,
                  kinds, unknown, unknown_files, coverage)


def _measure(root: ET.Element, record: dict, totals: dict[str, list[int]]) -> None:
    from .coverage import html_words, measure
    from .render import render_html

    page = " ".join([record["title"], record.get("description", ""),
                     render_html(record["document"], lambda target, kind: "#")])
    measure(root, html_words(page), totals)


def _root(data: bytes, name: str) -> ET.Element:
    return Source(data, name).root


def _id_key(fiche_id: str) -> tuple[str, int, str]:
    digits = re.sub(r"\D", "", fiche_id)
    return (fiche_id[:1], int(digits) if digits else 0, fiche_id)


def _merge(records: list[dict], archives: list[Archive]) -> dict:
    """One fiche published on several sites: the first site's text, every audience and path."""
    first = dict(records[0])
    audiences: list[str] = []
    paths: list[dict] = []
    urls: dict[str, str] = {}
    for record in records:
        audiences += [a for a in record["audiences"] if a not in audiences]
        for path in record["paths"]:
            if path not in paths:
                paths.append(path)
        if record.get("url"):
            urls[record.get("site") or record["audiences"][0]] = record["url"]
        first["modified"] = max(filter(None, [first.get("modified"), record.get("modified")]), default=None)
        first["important"] = max(filter(None, [first.get("important"), record.get("important")]), default=None)
    first["audiences"] = sorted(audiences, key=lambda a: SITE_ORDER.get(a, 3))
    first["paths"] = paths
    first["urls"] = urls
    return first


def _merge_resource(res: dict[str, dict], record: dict) -> None:
    existing = res.get(record["id"])
    if existing is None:
        res[record["id"]] = record
        return
    existing["audiences"] = list(dict.fromkeys(existing["audiences"] + record["audiences"]))
    existing["fiches"] = list(dict.fromkeys(existing["fiches"] + record["fiches"]))


def _glossary_resources(fiches: dict[str, dict], res: dict[str, dict]) -> None:
    """Definitions and sigles are written inside fiches, each with its own id: gathered as resources,
    and the contacts named by centresDeContact get the details a fiche gives them."""
    from .render import render_text

    for fiche_id, record in fiches.items():
        doc = record["document"]
        for entry in doc.get("glossary") or []:
            if entry.get("id") and entry["id"] not in res:
                res[entry["id"]] = {"id": entry["id"], "kind": "definition" if entry["k"] == "definition" else "sigle",
                                    "title": entry.get("title", ""), "url": "", "cerfa": "", "other_number": "",
                                    "description": render_text({"c": entry.get("c", [])}), "notices": [],
                                    "audiences": record["audiences"][:1], "modified": None, "fiches": []}
            if entry.get("id") in res:
                _add_fiche(res[entry["id"]], fiche_id)
        for contact in _contacts(doc):
            entry = res.get(contact.get("id", ""))
            if entry is None or entry["kind"] != "contact":
                continue
            if not entry["description"]:
                entry["description"] = render_text({"c": contact.get("c", [])})
            if not entry["url"] and contact.get("web"):
                entry["url"] = contact["web"][0]
            _add_fiche(entry, fiche_id)


def _add_fiche(entry: dict, fiche_id: str) -> None:
    if fiche_id not in entry["fiches"]:
        entry["fiches"].append(fiche_id)


def _contacts(doc: dict):
    yield from (doc.get("contacts") or []) + (doc.get("helpers") or [])
    stack = list(doc.get("body") or [])
    while stack:
        block = stack.pop()
        if not isinstance(block, dict):
            continue
        if block.get("t") == "contact":
            yield block
        for key in ("c", "items"):
            value = block.get(key)
            if isinstance(value, list):
                stack.extend(v for v in value if isinstance(v, dict))


def _dedupe_redirects(redirects: list[dict]) -> list[dict]:
    out: dict[str, dict] = {}
    for r in redirects:
        out.setdefault(r["old"], r)
    return list(out.values())
