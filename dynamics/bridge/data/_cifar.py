"""CIFAR-10 from its python-pickle or binary distribution, as an archive or an extracted folder.

Facts from the dataset's page (https://www.cs.toronto.edu/~kriz/cifar.html) and torchvision's
`CIFAR10` (file names, per-file md5s): 60 000 32x32 colour images in 10 classes, 50 000 for training
in five batches and 10 000 for testing in one. Each image is 3 072 bytes, the red plane (32x32,
row-major) first, then green, then blue. The python batches are pickled dicts (`data`: uint8
(10000, 3072), `labels`: 10 000 ints 0..9); the binary batches are 10 000 records of 3 073 bytes,
a label byte followed by the image.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from dynamics.config import ConfigError

from . import _archive as archives
from ._archive import Archive, Checksums, read_members
from ._dataset import Dataset, channel_stats
from ._errors import DataError
from ._pickle import RefusedGlobal, restricted_loads

__all__ = [
    "CIFAR10_BINARY",
    "CIFAR10_BINARY_RECORDS",
    "CIFAR10_CLASSES",
    "CIFAR10_MD5",
    "CIFAR10_PYTHON",
    "CIFAR10_FORMATS",
    "load_cifar10",
]

CIFAR10_PYTHON = Archive(
    filename="cifar-10-python.tar.gz",
    url="https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz",
    folder="cifar-10-batches-py",
    size=170_498_071,
    description="CIFAR-10 python version",
)
"""The python-pickle distribution (from the dataset's page)."""

CIFAR10_BINARY = Archive(
    filename="cifar-10-binary.tar.gz",
    url="https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz",
    folder="cifar-10-batches-bin",
    size=None,
    description="CIFAR-10 binary version",
)
"""The binary distribution (from the dataset's page)."""

CIFAR10_FORMATS = ("python", "binary")

CIFAR10_MD5: dict[str, str] = {
    # archives: from the dataset's page
    "cifar-10-python.tar.gz": "c58f30108f718f92721af3b95e74349a",
    "cifar-10-binary.tar.gz": "c32a1d4ab5d03f1284b67883e8d87530",
    # members of cifar-10-batches-py/: from torchvision's CIFAR10 (none are published for the binary members)
    "data_batch_1": "c99cafc152244af753f735de768cd75f",
    "data_batch_2": "d4bba439e000b95fd0a9bffe97cbabec",
    "data_batch_3": "54ebc095f3ab1f0389bbae665268c751",
    "data_batch_4": "634d18415352ddfa80567beed471001a",
    "data_batch_5": "482c414d41f54cd18b22e5b47cb7c3cb",
    "test_batch": "40351d587109b95175f43aff81a1287e",
    "batches.meta": "5ff9c542aee3614f3951f8cda6e48888",
}
"""Official md5 per file name: the two archives and the members of the python folder."""

CIFAR10_CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")
"""Class names in label order (from the dataset's page; also in `batches.meta`)."""

CIFAR10_BINARY_RECORDS = 10_000
"""Records per official binary batch file (from the dataset's page)."""

_SIDE = 32
_IMAGE_BYTES = 3 * _SIDE * _SIDE  # 3 072
_RECORD_BYTES = 1 + _IMAGE_BYTES  # 3 073
_TRAIN = tuple(f"data_batch_{i}" for i in range(1, 6))
_TEST = "test_batch"
_FILES = {
    "python": (_TRAIN + (_TEST,), "batches.meta"),
    "binary": (tuple(f"{n}.bin" for n in _TRAIN + (_TEST,)), "batches.meta.txt"),
}


def _archive(fmt: str) -> Archive:
    # looked up at call time so that a test (or a mirror) can swap the module constants
    return globals()["CIFAR10_PYTHON" if fmt == "python" else "CIFAR10_BINARY"]


def _nhwc(pixels: np.ndarray) -> np.ndarray:
    """(N, 3072) R, G, B planes, each 32x32 row-major -> (N, 32, 32, 3)."""
    return pixels.reshape(-1, 3, _SIDE, _SIDE).transpose(0, 2, 3, 1)


def _get(d: dict[Any, Any], key: str) -> Any:
    """`d[b"key"]` (the files' Python-2 byte-string keys) or `d["key"]` (a re-pickled copy)."""
    if key.encode() in d:
        return d[key.encode()]
    return d.get(key)


def _unpickle(data: bytes, where: str) -> Any:
    try:
        return restricted_loads(data)
    except RefusedGlobal as err:
        raise DataError(
            where,
            f"{err.module}.{err.name}",
            "refused to unpickle: a CIFAR-10 batch needs only numpy's array reconstruction, and this "
            "global could run code; nothing was run (the file is not a genuine CIFAR-10 batch)",
        ) from None
    except Exception as err:  # any failure to parse an untrusted file is a data error
        raise DataError(
            where, type(err).__name__, f"is not a readable pickle ({err}): truncated or corrupt"
        ) from None


def _python_batch(data: bytes, where: str) -> tuple[np.ndarray, np.ndarray]:
    """Images (N, 32, 32, 3) uint8 and labels (N,) int32 of one pickled batch."""
    obj = _unpickle(data, where)
    if not isinstance(obj, dict):
        raise DataError(where, type(obj).__name__, "must unpickle to a dict with 'data' and 'labels'")
    pixels, labels = _get(obj, "data"), _get(obj, "labels")
    if (
        not isinstance(pixels, np.ndarray)
        or pixels.dtype != np.uint8
        or pixels.ndim != 2
        or pixels.shape[1] != _IMAGE_BYTES
    ):
        shown = f"{pixels.dtype} {pixels.shape}" if isinstance(pixels, np.ndarray) else type(pixels).__name__
        raise DataError(where, shown, f"'data' must be a uint8 array (N, {_IMAGE_BYTES})")
    try:
        y = np.asarray(labels)
    except Exception:  # e.g. ragged nested lists
        y = np.asarray([], dtype=object)
    if y.ndim != 1 or not np.issubdtype(y.dtype, np.integer) or len(y) != len(pixels):
        raise DataError(where, f"{len(pixels)} images", "'labels' must be a list of one int per image")
    if len(y) and (y.min() < 0 or y.max() > 9):
        raise DataError(where, (int(y.min()), int(y.max())), "labels must lie in 0..9")
    return _nhwc(pixels), y.astype(np.int32)


def _python_meta(data: bytes, where: str) -> tuple[str, ...]:
    obj = _unpickle(data, where)
    names = _get(obj, "label_names") if isinstance(obj, dict) else None
    if not isinstance(names, list) or len(names) != 10 or not all(isinstance(n, (bytes, str)) for n in names):
        raise DataError(where, type(names).__name__, "'label_names' must list 10 class names")
    return tuple(n.decode("latin-1") if isinstance(n, bytes) else n for n in names)


def _binary_batch(data: np.ndarray, where: str, records: int | None) -> tuple[np.ndarray, np.ndarray]:
    """Images and labels of one binary batch: 1 label byte then 3 072 pixel bytes per record."""
    if data.size == 0 or data.size % _RECORD_BYTES:
        raise DataError(
            where,
            f"{data.size} bytes",
            f"must be a whole, non-zero number of {_RECORD_BYTES}-byte records (1 label byte + "
            f"{_IMAGE_BYTES} pixel bytes): the file is truncated or corrupt",
        )
    if records is not None and data.size != records * _RECORD_BYTES:
        raise DataError(
            where,
            f"{data.size} bytes",
            f"an official batch holds {records} records ({records * _RECORD_BYTES} bytes)",
        )
    table = data.reshape(-1, _RECORD_BYTES)
    labels = table[:, 0]
    if labels.max() > 9:
        raise DataError(where, int(labels.max()), "label bytes must lie in 0..9: the file is corrupt")
    return _nhwc(table[:, 1:]), labels.astype(np.int32)


def _binary_meta(text: bytes, where: str) -> tuple[str, ...]:
    names = tuple(line.strip() for line in text.decode("latin-1").splitlines() if line.strip())
    if len(names) != 10:
        raise DataError(where, len(names), "must list 10 class names, one a line")
    return names


def _parse(
    fmt: str, blobs: Mapping[str, Any], where: Mapping[str, str], records: int | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, tuple[str, ...]]:
    """Parse every batch (the raw bytes of each file) into train / test arrays and class names."""
    batches, meta = _FILES[fmt]
    parsed = []
    for name in batches:
        if fmt == "python":
            parsed.append(_python_batch(blobs[name], where[name]))
        else:
            parsed.append(_binary_batch(np.frombuffer(blobs[name], dtype=np.uint8), where[name], records))
    train_x = np.concatenate([x for x, _ in parsed[:5]])
    train_y = np.concatenate([y for _, y in parsed[:5]])
    test_x = np.ascontiguousarray(parsed[5][0])
    test_y = parsed[5][1]
    classes = CIFAR10_CLASSES
    if meta in blobs:
        classes = (_python_meta if fmt == "python" else _binary_meta)(blobs[meta], where[meta])
    return train_x, train_y, test_x, test_y, classes


def _find(root: Path, formats: tuple[str, ...]) -> tuple[str, Path] | None:
    """The first complete extracted folder, else the first archive, as (format, path)."""
    for fmt in formats:
        folder = root / _archive(fmt).folder
        if all((folder / name).is_file() for name in _FILES[fmt][0]):
            return fmt, folder
    for fmt in formats:
        archive = root / _archive(fmt).filename
        if archive.is_file():
            return fmt, archive
    return None


def _missing(root: Path, formats: tuple[str, ...]) -> DataError:
    first = _archive(formats[0])
    others = "".join(
        f"; or {_archive(f).filename} ({_archive(f).url}) / {_archive(f).folder}/" for f in formats[1:]
    )
    partial = [
        f"{_archive(f).folder}/ lacks "
        + ", ".join(n for n in _FILES[f][0] if not (root / _archive(f).folder / n).is_file())
        for f in formats
        if (root / _archive(f).folder).is_dir()
    ]
    found = f" ({'; '.join(partial)})" if partial else ""
    return DataError(
        "data_dir",
        str(root),
        f"holds no CIFAR-10 data{found}: put {first.filename} there (download it from {first.url}) "
        f"or its extracted folder {first.folder}/{others}; or pass download=True (--download)",
    )


def load_cifar10(
    data_dir: str | Path,
    *,
    download: bool = False,
    verify: bool = True,
    checksums: Mapping[str, str] | None = None,
    fmt: str | None = None,
) -> Dataset:
    """CIFAR-10: 50 000 training images (pre-training and probe set) and 10 000 test images.

    `data_dir` may hold `cifar-10-python.tar.gz`, `cifar-10-binary.tar.gz` or their extracted
    folders `cifar-10-batches-py/`, `cifar-10-batches-bin/`; a complete extracted folder is read
    before an archive, the python format before the binary one. Archives are read in memory
    without being extracted. The python batches are unpickled with a restricted unpickler that
    builds numpy arrays and refuses every other global (see `dynamics.bridge.data._pickle`).

    What is verified (`verify=True`): for an archive, its md5 (from the dataset's page) before it
    is read; for `cifar-10-batches-py/`, the md5 of each file read (from torchvision's table). No md5s
    are published for the members of `cifar-10-batches-bin/`: there only the sizes are checked (with
    the official table, each batch must be exactly 10 000 records of 3 073 bytes), the dataset is
    marked unverified and an `UnverifiedDataWarning` says so; keep `cifar-10-binary.tar.gz` in
    `data_dir` (without the folder) to have its md5 verified. Every format is checked for
    structure: whole 3 073-byte records, uint8 (N, 3072) pixel arrays, one label 0..9 per image.

    **Arguments:**

    - `data_dir`: the folder holding the archive or its extracted folder.
    - `download`: where no data is found, download the archive (the python one unless
      `fmt="binary"`) from the official URL into `data_dir` (temporary file, renamed once its md5
      matched).
    - `verify`: check md5s; `False` loads a modified copy, with an `UnverifiedDataWarning`.
    - `checksums`: expected md5 per file name (`"cifar-10-python.tar.gz"`, `"data_batch_1"`,
      `"test_batch.bin"`, …), replacing the official `CIFAR10_MD5`; files it does not name go
      unverified (with a warning).
    - `fmt`: `"python"` or `"binary"` to read only that format; `None` takes whichever is found.

    **Returns:** a `Dataset` with `pretrain` and `train_x` the same uint8 (50000, 32, 32, 3) array,
    `test_x` uint8 (10000, 32, 32, 3), int32 labels, the class names from `batches.meta` (or
    `batches.meta.txt`), and mean / std of the training images.

    **Raises:** `DataError` (a `ConfigError`) naming the file for missing data (with the expected
    archive, its URL and folder), a wrong md5, a truncated or corrupt archive or batch, an unsafe
    archive member (link, device, `..`, absolute path) or a refused pickle global; nothing is
    returned half-loaded and no temporary file is left.
    """
    if fmt is not None and fmt not in CIFAR10_FORMATS:
        raise ConfigError("fmt", fmt, f"must be one of {CIFAR10_FORMATS} or None")
    root = Path(data_dir).expanduser()
    formats = CIFAR10_FORMATS if fmt is None else (fmt,)
    table = CIFAR10_MD5 if checksums is None else checksums
    found = _find(root, formats)
    if found is None:
        if not download:
            raise _missing(root, formats)
        archive = _archive(formats[0])
        found = (
            formats[0],
            archives.download(archive.url, root / archive.filename, table.get(archive.filename)),
        )
    fmt_used, path = found
    archive = _archive(fmt_used)
    batches, meta = _FILES[fmt_used]
    check = Checksums(table, verify)
    records = CIFAR10_BINARY_RECORDS if checksums is None and verify else None
    if path.is_dir():
        names = batches + ((meta,) if (path / meta).is_file() else ())
        for name in names:  # every md5 is checked before any file is parsed
            check.check(path / name)
        blobs = {}
        for name in names:
            try:
                blobs[name] = (path / name).read_bytes()
            except OSError as err:
                raise DataError(str(path / name), type(err).__name__, f"cannot be read ({err})") from None
        where = {name: str(path / name) for name in names}
        kind = "extracted folder"
    else:
        check.check(path)
        blobs = read_members(path, archive.folder, batches + (meta,))
        lacking = [name for name in batches if name not in blobs]
        if lacking:
            raise DataError(
                str(path),
                lacking,
                f"lacks members of {archive.folder}/: not a complete {archive.description} archive",
            )
        where = {name: f"{path} (member {archive.folder}/{name})" for name in blobs}
        kind = "archive"
    train_x, train_y, test_x, test_y, classes = _parse(fmt_used, blobs, where, records)
    source = f"{path} ({archive.description}, {kind})"
    verified = check.finish(f"cifar10 from {path}")
    mean, std = channel_stats(train_x)
    return Dataset(
        name="cifar10",
        pretrain=train_x,
        train_x=train_x,
        train_y=train_y,
        test_x=test_x,
        test_y=test_y,
        num_classes=10,
        class_names=classes,
        mean=mean,
        std=std,
        source=source,
        verified=verified,
    )
