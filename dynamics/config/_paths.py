"""Output paths checked before any work starts: the right kind (file or folder), the right suffix,
a writable folder, and no silent replacement of an earlier result.

Shared by `simulate` (a .nc file), `sweep` (a .zarr store folder) and `plot` (an output folder), so
every command refuses a bad output the same way (a `ConfigError` naming the field).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Callable

from ._errors import ConfigError

__all__ = ["check_output_file", "check_output_folder", "can_write"]


def can_write(folder: Path) -> bool:
    """Whether files can be created in the existing folder `folder` (permissions and read-only
    mounts, as `access(2)` reports them)."""
    return os.access(folder, os.W_OK | os.X_OK)


def _nearest_existing(path: Path) -> Path:
    path = path.absolute()
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def _check_parent(field: str, path: Path) -> None:
    """The folder that will hold `path` (or its nearest existing ancestor, created on write) must be
    a writable folder."""
    anchor = _nearest_existing(path.parent)
    if not anchor.is_dir():
        raise ConfigError(field, str(path), f"{anchor} is a file, not a folder")
    if not can_write(anchor):
        raise ConfigError(field, str(path), f"the folder {anchor} is not writable")


def check_output_file(path: str | Path, *, field: str = "out", suffixes: tuple[str, ...] = (".nc",),
                      overwrite: bool = False, overwrite_flag: str = "--overwrite") -> Path:
    """Check that a result file can be written at `path` without losing anything.

    **Arguments:** the path, the `field` named in errors, the allowed `suffixes`, whether an
    existing file may be replaced (`overwrite`) and the flag that allows it (for the message).

    **Returns:** the path.

    **Raises:** `ConfigError` when the suffix is wrong, the path is a folder, the file exists and
    `overwrite` is false, or its folder is not a writable folder.
    """
    p = Path(path)
    if p.suffix not in suffixes:
        raise ConfigError(field, str(p), f"must end in {' or '.join(suffixes)}")
    if p.is_dir():
        raise ConfigError(field, str(p), "is a folder; name a file")
    if p.exists() and not overwrite:
        raise ConfigError(field, str(p), f"already exists; pass {overwrite_flag} to replace it")
    if p.exists() and not can_write(p.parent):
        raise ConfigError(field, str(p), f"the folder {p.parent.absolute()} is not writable")
    _check_parent(field, p)
    return p


def check_output_folder(path: str | Path, *, field: str = "out", suffix: str | None = None) -> Path:
    """Check that `path` is (or can become) a writable folder: a zarr store, or a folder of figures.

    **Arguments:** the path, the `field` named in errors and the required `suffix` (e.g. ".zarr",
    None for any).

    **Returns:** the path.

    **Raises:** `ConfigError` when the suffix is wrong, the path is a file, or the folder (or the
    nearest existing folder above it) is not writable.
    """
    p = Path(path)
    if suffix is not None and p.suffix != suffix:
        raise ConfigError(field, str(p), f"must end in {suffix} (a {suffix[1:]} store is a folder; plot "
                          f"recognises it by its suffix)")
    if p.exists() and not p.is_dir():
        raise ConfigError(field, str(p), "is a file, not a folder")
    if p.exists():
        if not can_write(p):
            raise ConfigError(field, str(p), "is a folder that is not writable")
    else:
        _check_parent(field, p)
    return p


def atomic_write(path: str | Path, write: Callable[[Path], None], suffix: str = "") -> Path:
    """Call `write(tmp_path)` then rename onto `path`, so readers never see a partial file. The file
    gets the permissions of an ordinary new file (0666 less the umask), not mkstemp's 0600."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=suffix + ".tmp", dir=path.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        write(tmp_path)
        os.chmod(tmp_path, 0o666 & ~_umask())
        os.replace(tmp_path, path)
    except BaseException:
        tmp_path.unlink(missing_ok=True)
        raise
    return path


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
