"""A sweep store that proves its own integrity: per-chunk checksums, saved array metadata, and the
inspection and repair that `--resume`, `verify` and `plot` share.

- When a chunk is marked done, the sha256 of every data variable's region (read back from the
  store) is written to `chunk_checksum[chunk]` first, then `chunk_done[chunk] = 1`.
- When a store is created, the text of every array's `zarr.json` and a hash of every coordinate
  are kept in the group's attributes, so a lost or damaged array description can be restored.
- `inspect_group` never raises on damage: it reports each done chunk as intact or corrupt (a region
  that cannot be read, or whose checksum differs, e.g. a deleted or damaged chunk file), chunks not
  computed, and damaged metadata. `repair_group` restores metadata and coordinates and clears the
  done flag of every chunk that fails, so `--resume` recomputes exactly those.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..config import ConfigError

if TYPE_CHECKING:  # zarr is imported where it is used (it is slow to import)
    import zarr

__all__ = ["GroupReport", "BOOKKEEPING", "record_metadata", "mark_done", "inspect_group", "repair_group",
           "region_digest", "sweep_groups", "DIGEST_SIZE"]

#: Arrays that describe the store's progress rather than results.
BOOKKEEPING = ("chunk_done", "chunk_checksum")
DIGEST_SIZE = 32  # sha256
_META = "array_metadata_json"
_COORDS = "coords_sha256"
_VARS = "data_variables"


@dataclass
class GroupReport:
    """The state of one sweep group.

    - `fatal`: why the group cannot be read or repaired at all (its own metadata is missing or not
      a sweep group's), else None; then the other fields are empty.
    - `n_chunks`, `rows_per_chunk`, `first_axis`: the chunking (regions along the first axis).
    - `intact`: done chunks whose every variable is readable and matches its checksum.
    - `not_computed`: chunks never completed (done flag 0 or unreadable).
    - `corrupt`: done chunks that fail, with the reason.
    - `metadata`: damaged array descriptions (`zarr.json`) or coordinates, with the problem.
    - `arrays`: with `keep=True`, the raw region values of the intact chunks (chunk -> name -> array).
    """

    group: str
    fatal: str | None = None
    n_chunks: int = 0
    rows_per_chunk: int = 1
    first_axis: int = 0
    intact: list[int] = field(default_factory=list)
    not_computed: list[int] = field(default_factory=list)
    corrupt: dict[int, str] = field(default_factory=dict)
    metadata: dict[str, str] = field(default_factory=dict)
    arrays: dict[int, dict[str, np.ndarray]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """Every chunk done and intact, no damaged metadata."""
        return (self.fatal is None and not self.metadata and not self.corrupt and not self.not_computed
                and len(self.intact) == self.n_chunks)

    def rows(self, chunk: int) -> slice:
        start = chunk * self.rows_per_chunk
        return slice(start, min(start + self.rows_per_chunk, self.first_axis))

    def summary(self) -> str:
        """One line: counts of done, missing and corrupt chunks, and damaged metadata."""
        if self.fatal:
            return f"group {self.group}: unreadable ({self.fatal})"
        text = (f"group {self.group}: {self.n_chunks} chunks: {len(self.intact)} done and intact, "
                f"{len(self.not_computed)} not computed, {len(self.corrupt)} corrupt")
        if self.metadata:
            text += f"; damaged metadata: {', '.join(f'{k} ({v})' for k, v in sorted(self.metadata.items()))}"
        return text

    def details(self) -> list[str]:
        """One line per corrupt chunk."""
        return [f"  chunk {c}: {why}" for c, why in sorted(self.corrupt.items())]


def _digest_update(h, name: str, arr: np.ndarray) -> None:
    h.update(name.encode())
    h.update(repr(arr.shape).encode())
    if arr.dtype.kind in "OUST":  # strings: their text (object and StringDType bytes hold pointers)
        h.update(b"str")
        h.update(json.dumps([str(v) for v in arr.ravel().tolist()]).encode())
    else:
        h.update(str(arr.dtype).encode())
        h.update(np.ascontiguousarray(arr).tobytes())


def region_digest(arrays: dict[str, np.ndarray]) -> bytes:
    """sha256 over the variables of one region (sorted by name; name, dtype, shape and bytes)."""
    h = hashlib.sha256()
    for name in sorted(arrays):
        _digest_update(h, name, np.asarray(arrays[name]))
    return h.digest()


def _array_hash(arr: np.ndarray) -> str:
    h = hashlib.sha256()
    _digest_update(h, "", np.asarray(arr))
    return h.hexdigest()


def _open(path: Path, group: str, mode: str = "r") -> zarr.Group:
    import zarr  # imported on first use: zarr is slow to import and only stores need it

    return zarr.open_group(str(path), mode=mode, path=group)


def record_metadata(path: Path, group: str, data_variables: list[str], coords: list[str]) -> None:
    """Keep, in the group's attributes, the text of every array's `zarr.json`, the list of data
    variables the checksums cover and a hash of every coordinate (called once, at creation)."""
    root = _open(path, group, "r+")
    meta = {}
    for name in list(data_variables) + list(BOOKKEEPING) + list(coords):
        meta[name] = (path / group / name / "zarr.json").read_text()
    hashes = {name: _array_hash(root[name][...]) for name in coords}
    root.attrs.update({_META: json.dumps(meta), _VARS: list(data_variables), _COORDS: hashes})


def _read_region(root: zarr.Group, names: list[str], rows: slice) -> dict[str, np.ndarray]:
    return {name: np.asarray(root[name][rows.start:rows.stop]) for name in names}


def mark_done(path: Path, group: str, chunk: int, rows: slice) -> None:
    """Record chunk `chunk` (first-axis `rows`) as complete: its checksum, read back from the store,
    then the done flag (an interruption between the two leaves the chunk not done)."""
    root = _open(path, group, "r+")
    names = list(root.attrs[_VARS])
    digest = region_digest(_read_region(root, names, rows))
    root["chunk_checksum"][chunk] = np.frombuffer(digest, dtype=np.uint8)
    root["chunk_done"][chunk] = 1


def sweep_groups(path: Path) -> list[str]:
    """Names of the sub-folders of a store that look like zarr groups: with group metadata, or
    (a group whose own metadata was lost) holding arrays."""
    if not path.is_dir():
        return []
    return sorted(p.name for p in path.iterdir() if p.is_dir() and (
        (p / "zarr.json").exists() or any((child / "zarr.json").exists() for child in p.iterdir() if child.is_dir())))


def _group_attrs(path: Path, group: str) -> tuple[dict[str, Any] | None, str | None]:
    meta_file = path / group / "zarr.json"
    if not meta_file.exists():
        return None, "its group metadata (zarr.json) is missing"
    try:
        meta = json.loads(meta_file.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        return None, f"its group metadata (zarr.json) is unreadable ({err})"
    if not isinstance(meta, dict) or meta.get("node_type") != "group":
        return None, "its zarr.json does not describe a zarr group"
    attrs = meta.get("attributes") or {}
    missing = [k for k in ("sweep_signature", _META, _VARS, _COORDS, "rows_per_chunk", "n_chunks") if k not in attrs]
    if missing:
        return None, (f"not a dynamics sweep group, or written before stores kept checksums (no "
                      f"{', '.join(missing)} attribute)")
    return attrs, None


def _check_metadata(path: Path, group: str, saved: dict[str, str]) -> dict[str, str]:
    problems = {}
    for name, text in saved.items():
        meta_file = path / group / name / "zarr.json"
        if not meta_file.exists():
            problems[name] = "zarr.json missing"
            continue
        try:
            current = json.loads(meta_file.read_text())
        except (OSError, UnicodeDecodeError, json.JSONDecodeError):
            problems[name] = "zarr.json unreadable"
            continue
        if current != json.loads(text):
            problems[name] = "zarr.json differs from the one written with the store"
    return problems


def _read_flag(arr, chunk: int) -> int:
    try:
        return int(arr[chunk])
    except Exception:  # noqa: BLE001 - a damaged flag counts as not done
        return 0


def inspect_group(path: str | Path, group: str, *, keep: bool = False) -> GroupReport:
    """Check one sweep group without changing it.

    **Arguments:** the store, the group, and `keep`: also return the raw values of intact chunks
    (`GroupReport.arrays`, used to load a store in one pass).

    **Returns:** a `GroupReport`; never raises on a damaged store (see `GroupReport.fatal`).
    """
    path = Path(path)
    report = GroupReport(group)
    attrs, fatal = _group_attrs(path, group)
    if fatal:
        report.fatal = fatal
        return report
    saved = json.loads(attrs[_META])
    names = list(attrs[_VARS])
    report.n_chunks = int(attrs["n_chunks"])
    report.rows_per_chunk = int(attrs["rows_per_chunk"])
    report.first_axis = int(json.loads(saved[names[0]])["shape"][0])
    report.metadata = _check_metadata(path, group, saved)
    try:
        root = _open(path, group)
    except Exception as err:  # noqa: BLE001 - damaged beyond what the metadata check names
        report.fatal = f"the group cannot be opened ({type(err).__name__}: {err})"
        return report
    for name, expected in attrs[_COORDS].items():
        if name in report.metadata:
            continue
        try:
            if _array_hash(root[name][...]) != expected:
                report.metadata[name] = "coordinate values differ from the ones written with the store"
        except Exception as err:  # noqa: BLE001
            report.metadata[name] = f"coordinate unreadable ({type(err).__name__})"
    bad_meta = set(report.metadata)
    for chunk in range(report.n_chunks):
        done = 0 if "chunk_done" in bad_meta else _read_flag(root["chunk_done"], chunk)
        if not done:
            report.not_computed.append(chunk)
            continue
        unreadable = sorted(bad_meta & (set(names) | {"chunk_checksum"}))
        if unreadable:
            report.corrupt[chunk] = f"cannot be checked: metadata of {', '.join(unreadable)} damaged"
            continue
        rows = report.rows(chunk)
        try:
            stored = bytes(np.asarray(root["chunk_checksum"][chunk], dtype=np.uint8))
        except Exception as err:  # noqa: BLE001
            report.corrupt[chunk] = f"checksum unreadable ({type(err).__name__})"
            continue
        if stored == bytes(DIGEST_SIZE):
            report.corrupt[chunk] = "no checksum recorded"
            continue
        arrays: dict[str, np.ndarray] = {}
        failed = None
        for name in names:
            try:
                arrays[name] = np.asarray(root[name][rows.start:rows.stop])
            except Exception as err:  # noqa: BLE001 - e.g. a truncated or overwritten chunk file
                failed = f"{name} unreadable ({type(err).__name__}: {str(err)[:80]})"
                break
        if failed is None and region_digest(arrays) != stored:
            failed = "checksum mismatch (a chunk file was deleted, damaged or rewritten)"
        if failed:
            report.corrupt[chunk] = failed
            continue
        report.intact.append(chunk)
        if keep:
            report.arrays[chunk] = arrays
    return report


def _restore_coords(root: zarr.Group, coords: dict[str, np.ndarray], names: list[str]) -> None:
    for name in names:
        if name in coords:
            root[name][...] = coords[name]


def repair_group(path: Path, group: str, report: GroupReport, coords: dict[str, np.ndarray],
                 log) -> None:
    """Make a damaged group resumable: restore every damaged array description from the copy kept
    at creation, rewrite damaged coordinates from `coords` (the sweep's own axes, times and modes),
    and clear the done flag of every corrupt chunk so it is recomputed. `log(message)` is told each
    repair.

    **Raises:** `ConfigError` when the group is beyond repair (`report.fatal`).
    """
    if report.fatal:
        raise ConfigError("out", str(path / group), f"cannot be resumed: {report.fatal}; the store is too damaged "
                          "to repair, use --overwrite to start it again")
    attrs, _ = _group_attrs(path, group)
    saved = json.loads(attrs[_META])
    restored_meta = [name for name, why in report.metadata.items() if "zarr.json" in why]
    for name in restored_meta:
        folder = path / group / name
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "zarr.json").write_text(saved[name])
        log(f"restored the metadata of {name} ({report.metadata[name]})")
    root = _open(path, group, "r+")
    coord_names = [name for name in report.metadata if name in attrs[_COORDS]]
    _restore_coords(root, coords, coord_names)
    for name in coord_names:
        if name not in restored_meta:
            log(f"rewrote the coordinate {name} ({report.metadata[name]})")
    if restored_meta or coord_names:  # chunks that could not be checked before: check them now
        report = inspect_group(path, group)
        if report.metadata:
            raise ConfigError("out", str(path / group), f"could not be repaired ({report.summary()}); use "
                              "--overwrite to start it again")
    for chunk, why in sorted(report.corrupt.items()):
        root["chunk_done"][chunk] = 0
        log(f"chunk {chunk} will be recomputed: {why}")
    for chunk in report.not_computed:  # a damaged flag reads as not done: write it cleanly
        try:
            root["chunk_done"][chunk] = 0
        except Exception:  # noqa: BLE001
            pass
