"""The finished points of an unfinished sampled sweep, kept on disk so that `--resume` loses nothing.

A sampled sweep (`sweep_sampled`) runs its grid points one after another and writes its zarr group
once at the end. While it runs, every finished point is written at once (atomically) as one `.npz`
file in a folder beside the store, `.<store name>.<group>.points/`, with a manifest naming the sweep
(base config, axes with their values, axis seed). A resumed sweep reads the points whose manifest
matches and runs only the others; the folder is removed once the group is written. A point's result
depends only on its own config (every run draws from its own `seed`), so a resumed sweep equals an
uninterrupted one bit for bit.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np

from ..config import ConfigError
from ..results import atomic_write

__all__ = ["PointLog", "point_log_folder"]

_MANIFEST = "manifest.json"


def point_log_folder(out: Path, group: str) -> Path:
    """The folder of the finished points of the sweep into `out` (group `group`)."""
    out = Path(out)
    return out.parent / f".{out.name}.{group}.points"


class PointLog:
    """Finished points of one sweep: `index` (a tuple over the axes) -> {name: array}."""

    def __init__(self, folder: Path, manifest: dict[str, Any]):
        self.folder = Path(folder)
        self.manifest = manifest

    def open(self, *, resume: bool, overwrite: bool) -> dict[tuple[int, ...], dict[str, np.ndarray]]:
        """Prepare the folder and return the points already done (only with `resume`).

        **Raises:** `ConfigError` naming `resume` when an unfinished sweep is there and neither
        `resume` nor `overwrite` is given, or when the one there was started with other settings.
        """
        if self.folder.exists() and not resume:
            if not overwrite:
                raise ConfigError("resume", False, f"{self.folder} holds the finished points of an unfinished sweep "
                                  "of this group: pass --resume to continue it or --overwrite to start again")
            shutil.rmtree(self.folder)
        done: dict[tuple[int, ...], dict[str, np.ndarray]] = {}
        if self.folder.exists():
            try:
                stored = json.loads((self.folder / _MANIFEST).read_text())
            except (OSError, ValueError):
                stored = None
            if stored != self.manifest:
                raise ConfigError("resume", True, f"the unfinished sweep in {self.folder} was started with other "
                                  "settings or axes: pass --overwrite to start this one again")
            for path in sorted(self.folder.glob("p*.npz")):
                index = tuple(int(i) for i in path.stem[1:].split("_") if i)
                try:
                    with np.load(path) as arrays:
                        done[index] = {name: arrays[name] for name in arrays.files}
                except (OSError, ValueError, EOFError):
                    path.unlink()  # a damaged point is run again
        else:
            self.folder.mkdir(parents=True)
            atomic_write(self.folder / _MANIFEST, lambda tmp: tmp.write_text(json.dumps(self.manifest)))
        return done

    def save(self, index: tuple[int, ...], point: dict[str, np.ndarray]) -> None:
        """Write one finished point (temporary file, then rename)."""

        def write(tmp: Path) -> None:
            with open(tmp, "wb") as fh:
                np.savez(fh, **point)

        atomic_write(self.folder / ("p" + "_".join(str(i) for i in index) + ".npz"), write)

    def remove(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)
