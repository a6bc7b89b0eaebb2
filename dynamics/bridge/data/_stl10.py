"""STL-10 from its binary distribution (`stl10_binary.tar.gz` or the extracted `stl10_binary/`).

Facts from the dataset's page (https://cs.stanford.edu/~acoates/stl10/) and torchvision's `STL10`
(per-file md5s): 96x96 colour images in 10 classes; 5 000 labeled training images, 8 000 test
images and 100 000 unlabeled images. The `*_X.bin` files are raw uint8 with no header, each image
3x96x96 with every channel stored column-major; the `*_y.bin` files hold one byte per image, the
labels 1..10. `fold_indices.txt` holds 10 lines of 1 000 0-based indices into the training set.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np

from dynamics.config import ConfigError

from . import _archive as archives
from ._archive import Archive, Checksums, extract_folder
from ._dataset import Dataset, channel_stats
from ._errors import DataError

__all__ = ["STL10", "STL10_CLASSES", "STL10_MD5", "load_stl10", "load_stl10_folds"]

STL10 = Archive(
    filename="stl10_binary.tar.gz",
    url="http://ai.stanford.edu/~acoates/stl10/stl10_binary.tar.gz",
    folder="stl10_binary",
    size=None,  # about 2.46 GiB; the exact size is not published
    description="STL-10 binary version",
)
"""The binary distribution (from the dataset's page)."""

STL10_MD5: dict[str, str] = {
    # from torchvision's STL10
    "stl10_binary.tar.gz": "91f7769df0f17e558f3565bffb0c7dfb",
    "train_X.bin": "918c2871b30a85fa023e0c44e0bee87f",
    "train_y.bin": "5a34089d4802c674881badbb80307741",
    "unlabeled_X.bin": "5242ba1fed5e4be9e1e742405eb56ca4",
    "test_X.bin": "7f263ba9f9e0b06b93213547f721ac82",
    "test_y.bin": "36f9794fa4beb8a2c72628de14fa638e",
}
"""Official md5 per file name: the archive and the image / label files of `stl10_binary/`."""

STL10_CLASSES = ("airplane", "bird", "car", "cat", "deer", "dog", "horse", "monkey", "ship", "truck")
"""Class names in label order, label 1 first (from the dataset's page; also in `class_names.txt`)."""

_SIDE = 96
_IMAGE_BYTES = 3 * _SIDE * _SIDE  # 27 648
_LABELED = ("train_X.bin", "train_y.bin", "test_X.bin", "test_y.bin")
_UNLABELED = "unlabeled_X.bin"


def _stl10() -> Archive:
    # looked up at call time so that a test (or a mirror) can swap the module constant
    return globals()["STL10"]


def _nhwc(images: np.ndarray) -> np.ndarray:
    """(N, 3, 96, 96) with each channel column-major -> (N, 96, 96, 3) row-major (a view)."""
    return images.transpose(0, 3, 2, 1)


def _images(path: Path, limit: int | None = None) -> np.ndarray:
    """The images of a `*_X.bin` file as a memory-mapped (N, 3, 96, 96) array, at most `limit`."""
    size = path.stat().st_size
    if size == 0 or size % _IMAGE_BYTES:
        raise DataError(
            str(path),
            f"{size} bytes",
            f"must be a whole, non-zero number of {_IMAGE_BYTES}-byte images (3x96x96): "
            "the file is truncated or corrupt",
        )
    count = size // _IMAGE_BYTES if limit is None else min(limit, size // _IMAGE_BYTES)
    return np.memmap(path, dtype=np.uint8, mode="r", shape=(count, 3, _SIDE, _SIDE))


def _labels(path: Path, count: int) -> np.ndarray:
    """The labels of a `*_y.bin` file, shifted from 1..10 to 0..9, as int32."""
    raw = np.fromfile(path, dtype=np.uint8)
    if raw.size != count:
        raise DataError(
            str(path),
            f"{raw.size} labels",
            f"must hold one label byte per image ({count}): truncated or corrupt",
        )
    if raw.size and (raw.min() < 1 or raw.max() > 10):
        raise DataError(
            str(path), (int(raw.min()), int(raw.max())), "labels must lie in 1..10: the file is corrupt"
        )
    return raw.astype(np.int32) - 1


def _class_names(folder: Path) -> tuple[str, ...]:
    path = folder / "class_names.txt"
    if not path.is_file():
        return STL10_CLASSES
    names = tuple(line.strip() for line in path.read_text(encoding="latin-1").splitlines() if line.strip())
    if len(names) != 10:
        raise DataError(str(path), len(names), "must list 10 class names, one a line")
    return names


def _missing(root: Path) -> DataError:
    archive = _stl10()
    return DataError(
        "data_dir",
        str(root),
        f"holds no STL-10 data: put {archive.filename} there (download it from {archive.url}; about "
        f"2.5 GB) or its extracted folder {archive.folder}/; or pass download=True (--download)",
    )


def load_stl10(
    data_dir: str | Path,
    *,
    download: bool = False,
    verify: bool = True,
    max_unlabeled: int | None = None,
    checksums: Mapping[str, str] | None = None,
) -> Dataset:
    """STL-10 for self-supervised learning: pre-train on train + unlabeled, probe on train, test on test.

    `data_dir` may hold `stl10_binary.tar.gz` or its extracted folder `stl10_binary/` (read first
    when complete). An archive without its folder is extracted next to it once (about 2.9 GB;
    members are checked for links, devices, `..` and absolute paths first, and the files land in a
    temporary folder renamed to `stl10_binary/` when complete); the image files are then
    memory-mapped. The unlabeled images never reach a label array: they appear only in `pretrain`.

    What is verified (`verify=True`): an archive's md5 before it is extracted (where it matched, the
    files just extracted from it are trusted for this call); in an extracted folder, the md5 of each
    image and label file read (`unlabeled_X.bin` only when read; hashing its 2.76 GB takes a few
    seconds). The text files
    `class_names.txt` and `fold_indices.txt` have no published md5s and are not verified. Every file
    is checked for structure: whole 27 648-byte images, one label byte 1..10 per labeled image.

    **Arguments:**

    - `data_dir`: the folder holding the archive or its extracted folder.
    - `download`: where no data is found, download `stl10_binary.tar.gz` (about 2.5 GB) from the
      official URL into `data_dir` (temporary file, renamed once its md5 matched) and extract it.
    - `verify`: check md5s; `False` loads a modified copy, with an `UnverifiedDataWarning`.
    - `max_unlabeled`: use only the first this many unlabeled images (`0`: none, and
      `unlabeled_X.bin` is not needed); `None` uses all 100 000 (about 2.8 GB in memory).
    - `checksums`: expected md5 per file name, replacing the official `STL10_MD5`; files it does
      not name go unverified (with a warning).

    **Returns:** a `Dataset` with `pretrain` uint8 (5000 + unlabeled, 96, 96, 3) (train images
    first), `train_x` (5000, 96, 96, 3), `test_x` (8000, 96, 96, 3), int32 labels 0..9 (the file's
    1..10 minus one), the class names from `class_names.txt`, and mean / std of `pretrain`.

    **Raises:** `DataError` (a `ConfigError`) naming the file for missing data (with the expected
    archive, its URL and folder), a wrong md5, a truncated or corrupt file or archive, or an unsafe
    archive member; nothing is returned half-loaded and no temporary file or folder is left.
    """
    if max_unlabeled is not None and (
        isinstance(max_unlabeled, bool) or not isinstance(max_unlabeled, int) or max_unlabeled < 0
    ):
        raise ConfigError(
            "max_unlabeled", max_unlabeled, "must be an int >= 0, or None for all unlabeled images"
        )
    root = Path(data_dir).expanduser()
    spec = _stl10()
    folder, archive = root / spec.folder, root / spec.filename
    needed = _LABELED + ((_UNLABELED,) if max_unlabeled != 0 else ())
    table = STL10_MD5 if checksums is None else checksums
    check = Checksums(table, verify)
    complete = all((folder / name).is_file() for name in needed)
    extracted = trusted = False
    if not complete:
        if folder.exists():
            lacking = [name for name in needed if not (folder / name).is_file()]
            raise DataError(
                str(folder),
                lacking,
                f"is incomplete: add the missing files, or remove the folder so that {spec.filename} "
                f"({spec.url}) can be extracted again",
            )
        if not archive.is_file():
            if not download:
                raise _missing(root)
            archives.download(spec.url, archive, table.get(spec.filename))
        before = len(check.unverified)
        check.check(archive)
        trusted = len(check.unverified) == before  # the archive's md5 matched
        extract_folder(archive, spec.folder)
        extracted = True
        lacking = [name for name in needed if not (folder / name).is_file()]
        if lacking:
            raise DataError(
                str(archive),
                lacking,
                f"lacks members of {spec.folder}/: not a complete {spec.description} archive",
            )
    if not (extracted and trusted):  # files from an archive whose md5 just matched are trusted
        for name in needed:  # every md5 is checked before any file is parsed
            check.check(folder / name)
    try:
        train = _images(folder / "train_X.bin")
        train_y = _labels(folder / "train_y.bin", len(train))
        test = _images(folder / "test_X.bin")
        test_y = _labels(folder / "test_y.bin", len(test))
        unlabeled = _images(folder / _UNLABELED, max_unlabeled) if max_unlabeled != 0 else None
        train_x = np.ascontiguousarray(_nhwc(train))
        test_x = np.ascontiguousarray(_nhwc(test))
        if unlabeled is None:
            pretrain = train_x
        else:
            pretrain = np.concatenate([train_x, _nhwc(unlabeled)])
        del train, test, unlabeled  # close the memory maps
    except OSError as err:
        raise DataError(str(folder), type(err).__name__, f"a file cannot be read ({err})") from None
    classes = _class_names(folder)
    verified = check.finish(f"stl10 from {archive if extracted else folder}")
    mean, std = channel_stats(pretrain)
    kind = "archive, extracted" if extracted else "extracted folder"
    return Dataset(
        name="stl10",
        pretrain=pretrain,
        train_x=train_x,
        train_y=train_y,
        test_x=test_x,
        test_y=test_y,
        num_classes=10,
        class_names=classes,
        mean=mean,
        std=std,
        source=f"{folder} ({spec.description}, {kind})",
        verified=verified,
    )


def load_stl10_folds(data_dir: str | Path) -> tuple[np.ndarray, ...]:
    """The 10 predefined folds of 1 000 training indices (0-based) from `stl10_binary/fold_indices.txt`.

    The dataset's page prescribes training on each fold and reporting the mean and standard
    deviation of the 10 test accuracies. The file is not checksummed (no md5 is published).

    **Arguments:**

    - `data_dir`: the folder holding the extracted `stl10_binary/` (`load_stl10` extracts it).

    **Returns:** 10 int64 arrays of indices into `train_x`.

    **Raises:** `DataError` naming the file when it is missing, malformed, or its indices fall outside
    the training set.
    """
    folder = Path(data_dir).expanduser() / _stl10().folder
    path = folder / "fold_indices.txt"
    if not path.is_file():
        raise DataError(
            str(path), "missing", f"extract {_stl10().filename} into {folder.parent} first (load_stl10 does)"
        )
    try:
        lines = [line for line in path.read_text(encoding="ascii").splitlines() if line.strip()]
        folds = tuple(np.array([int(v) for v in line.split()], dtype=np.int64) for line in lines)
    except (UnicodeDecodeError, ValueError) as err:
        raise DataError(str(path), type(err).__name__, f"must hold lines of integers ({err})") from None
    if len(folds) != 10 or any(f.size == 0 for f in folds):
        raise DataError(str(path), len(folds), "must hold 10 non-empty lines of indices")
    labels = folder / "train_y.bin"
    count = labels.stat().st_size if labels.is_file() else None
    for fold in folds:
        if fold.min() < 0 or (count is not None and fold.max() >= count):
            raise DataError(
                str(path),
                (int(fold.min()), int(fold.max())),
                f"indices must lie in 0..{count}-1 (the training set)",
            )
    return folds
