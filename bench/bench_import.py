"""Benchmark the DILA import on the real archives (not a test; prints figures).

    .venv/bin/python bench/bench_import.py [--database-url postgresql://postgres@127.0.0.1:5432/bench_import]

Into a fresh database (a temporary SQLite file by default; with --database-url, that database is
dropped and created again), in one run: the full import of both shared archives, a re-import with no
change, and a re-import after one fiche changed; each timed, with the process's peak memory. The
targets of issue #10: full import <= 3 min, no-change re-import <= 30 s.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import zipfile

from allo_workspace import ROOT, peak_child_mb, run, workspace

ARCHIVES = ROOT.parent / "shared" / "kb" / "service-public-real"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url", default="", help="a PostgreSQL database to recreate and use")
    parser.add_argument("--quick", action="store_true", help="the Professionnels archive only (make bench)")
    args = parser.parse_args(argv)
    sources = [ARCHIVES / "pro.zip"] if args.quick else [ARCHIVES / "part.zip", ARCHIVES / "pro.zip"]
    if not all(p.exists() for p in sources):
        print(f"the real archives are not at {ARCHIVES}")
        return 1
    work, env = workspace("allo-bench-import-", args.database_url)
    try:
        run(["init"], env)
        paths = [str(p) for p in sources]
        full = run(["kb", "import", *paths], env)
        print(f"full import of {', '.join(p.name for p in sources)}: {full:.1f} s "
              f"(target <= 180 s), peak memory {peak_child_mb():.0f} MB")
        again = run(["kb", "import", *paths], env)
        print(f"re-import, no change: {again:.1f} s (target <= 30 s); ratio to the full import {again / full:.2f}")
        edited = work / sources[0].name
        with zipfile.ZipFile(sources[0]) as source, zipfile.ZipFile(edited, "w") as out:
            changed = False
            for info in source.infolist():
                data = source.read(info)
                if not changed and info.filename.startswith("F"):
                    data = data.replace(b"</dc:title>", b" (mise \xc3\xa0 jour)</dc:title>", 1)
                    changed = True
                out.writestr(info, data)
        one = run(["kb", "import", str(edited), *paths[1:]], env)
        print(f"re-import, one fiche changed: {one:.1f} s")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
