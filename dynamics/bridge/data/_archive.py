"""Checksums, safe reading and extraction of tar archives, downloads: the loaders' shared file handling."""

from __future__ import annotations

import hashlib
import http.client
import os
import shutil
import tarfile
import tempfile
import urllib.error
import urllib.request
import warnings
import zlib
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from ._errors import DataError, UnverifiedDataWarning

__all__ = [
    "BLOCK_SIZE",
    "Archive",
    "Checksums",
    "check_member",
    "download",
    "extract_folder",
    "md5sum",
    "read_members",
]

BLOCK_SIZE = 1 << 20
"""Files are hashed, downloaded and copied in blocks of 1 MiB."""

# Errors a truncated or corrupt gzip / tar stream raises while it is read.
_READ_ERRORS = (tarfile.TarError, EOFError, zlib.error, OSError)


@dataclass(frozen=True)
class Archive:
    """An archive as its publisher distributes it.

    **Arguments:**

    - `filename`: the archive's name as downloaded, e.g. `cifar-10-python.tar.gz`.
    - `url`: the official download address.
    - `folder`: the folder that extracting it creates, e.g. `cifar-10-batches-py`.
    - `size`: its size in bytes where published (`None` where not).
    - `description`: a few words for messages, e.g. `"CIFAR-10 python version"`.
    """

    filename: str
    url: str
    folder: str
    size: int | None
    description: str


def md5sum(path: str | Path) -> str:
    """The md5 of a file as 32 lower-case hex digits, read in blocks of 1 MiB.

    **Arguments:**

    - `path`: the file.

    **Returns:** the hex digest.

    **Raises:** `OSError` where the file cannot be read.
    """
    digest = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as f:
        while block := f.read(BLOCK_SIZE):
            digest.update(block)
    return digest.hexdigest()


class Checksums:
    """Verifies files against a table of md5s and remembers which files went unverified.

    **Arguments:**

    - `table`: expected md5 per file name (the name without its folder, e.g. `data_batch_1`).
    - `verify`: `False` skips every check; the files are then reported as unverified.
    """

    def __init__(self, table: Mapping[str, str], verify: bool):
        self.table = {name: md5.lower() for name, md5 in table.items()}
        self.verify = verify
        self.unverified: list[str] = []

    def check(self, path: Path, name: str | None = None) -> None:
        """Verify one file, or note it as unverified when `verify` is off or no md5 is known.

        **Arguments:**

        - `path`: the file to hash.
        - `name`: its key in the table; its file name by default.

        **Raises:** `DataError` naming the file when its md5 differs from the table's.
        """
        key = path.name if name is None else name
        expected = self.table.get(key)
        if not self.verify or expected is None:
            self.unverified.append(key)
            return
        try:
            actual = md5sum(path)
        except OSError as err:
            raise DataError(str(path), type(err).__name__, f"cannot be read ({err})") from None
        if actual != expected:
            raise DataError(
                str(path),
                f"md5 {actual}",
                f"expected md5 {expected}: the file is corrupt, truncated or modified; delete it and "
                "download it again, or pass verify=False (--no-verify) to load a modified copy",
            )

    def finish(self, what: str) -> bool:
        """Warn about the files that went unverified; whether every file was verified.

        **Arguments:**

        - `what`: the dataset and where it was read from, for the warning.

        **Returns:** `True` when every file checked was verified against a known md5.
        """
        if not self.unverified:
            return True
        names = ", ".join(self.unverified)
        if not self.verify:
            reason = "verify=False (--no-verify)"
        else:
            reason = "no md5 is known for them (only their sizes were checked)"
        warnings.warn(
            f"{what}: checksums were not verified for {names}: {reason}",
            UnverifiedDataWarning,
            stacklevel=3,
        )
        return False


def _member_parts(member: tarfile.TarInfo, archive: Path) -> tuple[str, ...]:
    """The path components of a member's name, with `.` dropped; refuses absolute names and `..`."""
    name = member.name
    if name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":"):
        raise DataError(str(archive), name, "holds a member with an absolute path: refused (unsafe archive)")
    parts = tuple(p for p in PurePosixPath(name.replace("\\", "/")).parts if p != ".")
    if ".." in parts:
        raise DataError(
            str(archive), name, "holds a member whose path contains '..': refused (unsafe archive)"
        )
    return parts


def check_member(member: tarfile.TarInfo, archive: Path, folder: str | None = None) -> tuple[str, ...]:
    """Refuse an archive member that could write outside its folder or create special files.

    Refused: absolute paths, `..` components, symbolic and hard links, character and block devices,
    FIFOs and every other type that is not a regular file or a folder; with `folder`, also every
    member outside that top-level folder (a `.` folder entry is allowed).

    **Arguments:**

    - `member`: the member's header.
    - `archive`: the archive, named in the error.
    - `folder`: where set, the one top-level folder members may lie in.

    **Returns:** the member's path components (`.` dropped).

    **Raises:** `DataError` naming the archive and the member.
    """
    parts = _member_parts(member, archive)
    if member.issym() or member.islnk():
        raise DataError(
            str(archive), member.name, f"holds a link (to {member.linkname!r}): refused (unsafe archive)"
        )
    if member.ischr() or member.isblk() or member.isfifo():
        raise DataError(str(archive), member.name, "holds a device or FIFO file: refused (unsafe archive)")
    if not (member.isreg() or member.isdir()):
        raise DataError(
            str(archive), member.name, "holds a member that is neither a file nor a folder: refused"
        )
    if folder is not None and not (parts and parts[0] == folder) and not (member.isdir() and not parts):
        raise DataError(str(archive), member.name, f"holds a member outside {folder}/: refused")
    return parts


def _failure(archive: Path, err: BaseException) -> DataError:
    """A read or extraction error as a `DataError`: a system error (with an errno: disk full, no
    permission) is reported as such; everything else means the archive is truncated or corrupt."""
    if isinstance(err, OSError) and err.errno is not None:
        return DataError(
            str(archive),
            type(err).__name__,
            f"could not be read or extracted ({err}): check the disk space and permissions of "
            f"{archive.parent}",
        )
    return DataError(
        str(archive),
        type(err).__name__,
        f"cannot be read as a gzip-compressed tar archive ({err}): the file is truncated or corrupt; "
        "delete it and download it again",
    )


def read_members(archive: Path, folder: str, names: Collection[str]) -> dict[str, bytes]:
    """Read files of `folder/` straight from a `.tar.gz` archive, without extracting anything.

    The archive is read once, as a stream; every member is checked with `check_member` (members
    outside `folder/` are checked and skipped), so an unsafe archive is refused even where the
    unsafe member comes after the files wanted.

    **Arguments:**

    - `archive`: the `.tar.gz` file.
    - `folder`: the top-level folder the wanted files lie in, e.g. `cifar-10-batches-py`.
    - `names`: the wanted files' names inside `folder/`; absent ones are left out of the result.

    **Returns:** the contents of the wanted files found, by name.

    **Raises:** `DataError` naming the archive for a truncated or corrupt archive, an unsafe member, or
    a wanted name that is not a regular file.
    """
    wanted = set(names)
    found: dict[str, bytes] = {}
    try:
        with tarfile.open(archive, mode="r|gz") as tar:
            for member in tar:
                parts = check_member(member, archive)
                if len(parts) != 2 or parts[0] != folder or parts[1] not in wanted:
                    continue
                if not member.isreg():
                    raise DataError(str(archive), member.name, "must be a regular file")
                stream = tar.extractfile(member)
                assert stream is not None  # a regular file always has a stream
                data = stream.read()
                if len(data) != member.size:
                    raise DataError(str(archive), member.name, "is truncated inside the archive")
                found[parts[1]] = data
    except _READ_ERRORS as err:
        raise _failure(archive, err) from None
    return found


def extract_folder(archive: Path, folder: str) -> Path:
    """Extract an archive's top-level `folder/` next to the archive, all or nothing.

    Every member is checked with `check_member` before anything is written (links, devices, `..`,
    absolute paths and members outside `folder/` are refused); where Python's `tarfile` has the
    `"data"` extraction filter (3.11.4+) it is applied as well. The files go to a temporary folder
    next to the archive, which is renamed to `folder/` only once extraction has finished; on any
    error the temporary folder is removed.

    **Arguments:**

    - `archive`: the `.tar.gz` file.
    - `folder`: the folder it holds, e.g. `stl10_binary`; `archive.parent / folder` must not exist.

    **Returns:** the extracted folder.

    **Raises:** `DataError` naming the archive for an unsafe member, a truncated or corrupt archive,
    or a failed write (e.g. a full disk).
    """
    target = archive.parent / folder
    if target.exists():
        raise DataError(str(target), "exists", "extraction needs a new folder: remove or rename it first")
    try:
        tmp = Path(tempfile.mkdtemp(prefix=f".{folder}.", suffix=".partial", dir=archive.parent))
    except OSError as err:
        raise DataError(
            str(archive.parent), type(err).__name__, f"cannot extract {archive.name} here ({err})"
        ) from None
    try:
        with tarfile.open(archive, mode="r:gz") as tar:
            members = tar.getmembers()
            for member in members:
                check_member(member, archive, folder)
            if hasattr(tarfile, "data_filter"):
                tar.extractall(tmp, members=members, filter="data")
            else:  # Python < 3.11.4: the checks above are the only guard
                tar.extractall(tmp, members=members)
        if not (tmp / folder).is_dir():
            raise DataError(str(archive), "no folder", f"must hold a top-level folder {folder}/")
        try:
            os.rename(tmp / folder, target)
        except OSError:
            if not target.is_dir():  # else another process extracted the same archive meanwhile
                raise
    except _READ_ERRORS as err:
        raise _failure(archive, err) from None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target


def download(url: str, dest: Path, md5: str | None) -> Path:
    """Download `url` to `dest` through a temporary file that is renamed once its md5 matched.

    **Arguments:**

    - `url`: the address (any scheme `urllib` opens, `file://` included).
    - `dest`: the file to create; its folder is created where missing.
    - `md5`: the expected md5, or `None` to accept any content.

    **Returns:** `dest`.

    **Raises:** `DataError` naming the URL when the transfer fails or the md5 differs; no partial
    file remains.
    """
    from tqdm import tqdm  # a dependency of the package; imported here to keep imports light

    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent)
    tmp = Path(name)
    try:
        digest = hashlib.md5(usedforsecurity=False)
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=60) as response:
            total = getattr(response, "length", None)
            with tqdm(total=total, unit="B", unit_scale=True, desc=dest.name, disable=None) as bar:
                while block := response.read(BLOCK_SIZE):
                    out.write(block)
                    digest.update(block)
                    bar.update(len(block))
        actual = digest.hexdigest()
        if md5 is not None and actual != md5.lower():
            raise DataError(
                url,
                f"md5 {actual}",
                f"the download's md5 differs from the expected {md5}; try again, or download "
                f"{dest.name} by hand into {dest.parent}",
            )
        os.replace(tmp, dest)
    except (OSError, http.client.HTTPException, ValueError) as err:
        if isinstance(err, DataError):
            raise
        raise DataError(
            url,
            type(err).__name__,
            f"the download failed ({err}); download {dest.name} by hand into {dest.parent}",
        ) from None
    finally:
        tmp.unlink(missing_ok=True)
    return dest
