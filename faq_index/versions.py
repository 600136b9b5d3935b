"""An index directory on disk: which version is live, and the versions kept.

    CURRENT                 name of the live version (replaced atomically)
    versions/<name>/        one complete build (manifest.json last written)

Shared by the builder, which writes versions, and the searcher, which follows CURRENT.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path


def current_version_dir(out_dir: str | Path) -> Path | None:
    """The live version's directory, or None when nothing has been built."""
    pointer = Path(out_dir) / "CURRENT"
    try:
        name = pointer.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    directory = Path(out_dir) / "versions" / name
    return directory if (directory / "manifest.json").exists() else None


def read_manifest(out_dir: str | Path) -> dict | None:
    """The live version's manifest, or None when nothing has been built."""
    directory = current_version_dir(out_dir)
    if directory is None:
        return None
    return json.loads((directory / "manifest.json").read_text(encoding="utf-8"))


def point_current_at(out: Path, name: str) -> None:
    """Make version `name` the live one, atomically (readers see the old or the new name)."""
    tmp = out / "CURRENT.tmp"
    tmp.write_text(name + "\n", encoding="utf-8")
    os.replace(tmp, out / "CURRENT")


def prune(out: Path, keep: str, versions: int) -> None:
    """Delete all but the newest `versions` versions; loaded readers hold their index in memory."""
    built = sorted(p for p in (out / "versions").iterdir() if p.is_dir() and not p.name.startswith("."))
    for old in built[:-versions]:
        if old.name != keep:
            shutil.rmtree(old, ignore_errors=True)
