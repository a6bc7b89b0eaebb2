"""Tiny CIFAR-10 and STL-10 files in exactly the official formats, for tests/test_bridge_data.py.

The pixel bytes are placed with explicit offset arithmetic taken from the datasets' pages (not with
the loaders' reshape / transpose), so a layout mistake in a loader shows up as a mismatch.
"""

from __future__ import annotations

import hashlib
import io
import pickle
import struct
import tarfile
from pathlib import Path

import numpy as np

CIFAR_TRAIN = tuple(f"data_batch_{i}" for i in range(1, 6))
CIFAR_NAMES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")
STL_NAMES = ("airplane", "bird", "car", "cat", "deer", "dog", "horse", "monkey", "ship", "truck")


class _Py2Pickler(pickle._Pickler):  # the pure-Python pickler, whose dispatch table can be changed
    """Writes str and bytes as Python 2 byte strings (SHORT_BINSTRING / BINSTRING), as the real
    CIFAR-10 files (pickled by Python 2) hold them; Python 3's protocol 2 would call _codecs.encode."""

    dispatch = dict(pickle._Pickler.dispatch)

    def _save_py2_string(self, obj: str | bytes) -> None:
        data = obj.encode("latin-1") if isinstance(obj, str) else bytes(obj)
        if len(data) < 256:
            self.write(pickle.SHORT_BINSTRING + bytes([len(data)]) + data)
        else:
            self.write(pickle.BINSTRING + struct.pack("<i", len(data)) + data)
        self.memoize(obj)

    dispatch[str] = _save_py2_string
    dispatch[bytes] = _save_py2_string


def py2_pickle(obj: object, legacy_numpy: bool = True) -> bytes:
    """`obj` pickled with protocol 2 the way Python 2 + numpy 1.x wrote CIFAR-10 (legacy_numpy:
    `numpy.core.multiarray._reconstruct`; otherwise numpy 2's `numpy._core.multiarray`)."""
    out = io.BytesIO()
    _Py2Pickler(out, protocol=2).dump(obj)
    data = out.getvalue()
    assert b"cnumpy._core.multiarray\n_reconstruct\n" in data or b"ndarray" not in data
    if legacy_numpy:
        data = data.replace(
            b"cnumpy._core.multiarray\n_reconstruct\n", b"cnumpy.core.multiarray\n_reconstruct\n"
        )
    return data


def random_images(rng: np.random.Generator, n: int, side: int) -> np.ndarray:
    return rng.integers(0, 256, size=(n, side, side, 3), dtype=np.uint8)


def cifar_rows(images: np.ndarray) -> np.ndarray:
    """(N, 32, 32, 3) -> (N, 3072): byte k*1024 + r*32 + c is channel k (R, G, B) at row r, column c."""
    n = len(images)
    rows = np.zeros((n, 3072), dtype=np.uint8)
    r, c, k = np.indices((32, 32, 3)).reshape(3, -1)
    rows[:, k * 1024 + r * 32 + c] = images[:, r, c, k]
    return rows


def stl_bytes(images: np.ndarray) -> bytes:
    """(N, 96, 96, 3) -> raw bytes: channel k stored column-major, byte k*9216 + c*96 + r."""
    n = len(images)
    flat = np.zeros((n, 3 * 96 * 96), dtype=np.uint8)
    r, c, k = np.indices((96, 96, 3)).reshape(3, -1)
    flat[:, k * 9216 + c * 96 + r] = images[:, r, c, k]
    return flat.tobytes()


def cifar_data(seed: int = 0, counts: tuple[int, ...] = (3, 2, 2, 2, 2), n_test: int = 3):
    """Random images and labels: five training batches of `counts` images and one test batch."""
    rng = np.random.default_rng(seed)
    batches = [(random_images(rng, n, 32), rng.integers(0, 10, size=n)) for n in (*counts, n_test)]
    return batches


def write_cifar_python(root: Path, batches, legacy_numpy: bool = True) -> Path:
    """`root/cifar-10-batches-py/` with data_batch_1..5, test_batch, batches.meta, readme.html."""
    folder = root / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    for i, (name, (images, labels)) in enumerate(zip((*CIFAR_TRAIN, "test_batch"), batches, strict=True)):
        batch = {
            "batch_label": f"batch {i + 1}",
            "labels": [int(v) for v in labels],
            "data": cifar_rows(images),
            "filenames": [f"image_{i}_{j}.png" for j in range(len(labels))],
        }
        (folder / name).write_bytes(py2_pickle(batch, legacy_numpy))
    meta = {"num_cases_per_batch": 10000, "label_names": list(CIFAR_NAMES), "num_vis": 3072}
    (folder / "batches.meta").write_bytes(py2_pickle(meta))
    (folder / "readme.html").write_text("<html>fixture</html>")
    return folder


def write_cifar_binary(root: Path, batches) -> Path:
    """`root/cifar-10-batches-bin/` with data_batch_1..5.bin, test_batch.bin, batches.meta.txt."""
    folder = root / "cifar-10-batches-bin"
    folder.mkdir(parents=True)
    for name, (images, labels) in zip((*CIFAR_TRAIN, "test_batch"), batches, strict=True):
        records = np.concatenate([np.asarray(labels, dtype=np.uint8)[:, None], cifar_rows(images)], axis=1)
        (folder / f"{name}.bin").write_bytes(records.tobytes())
    (folder / "batches.meta.txt").write_text("\n".join(CIFAR_NAMES) + "\n\n")
    return folder


def stl_data(seed: int = 0, n_train: int = 5, n_test: int = 4, n_unlabeled: int = 3):
    rng = np.random.default_rng(seed)
    return {
        "train": (random_images(rng, n_train, 96), rng.integers(1, 11, size=n_train)),
        "test": (random_images(rng, n_test, 96), rng.integers(1, 11, size=n_test)),
        "unlabeled": random_images(rng, n_unlabeled, 96),
    }


def write_stl(root: Path, data) -> Path:
    """`root/stl10_binary/` with the X / y files, unlabeled_X.bin, class_names.txt, fold_indices.txt."""
    folder = root / "stl10_binary"
    folder.mkdir(parents=True)
    for split in ("train", "test"):
        images, labels = data[split]
        (folder / f"{split}_X.bin").write_bytes(stl_bytes(images))
        (folder / f"{split}_y.bin").write_bytes(np.asarray(labels, dtype=np.uint8).tobytes())
    (folder / "unlabeled_X.bin").write_bytes(stl_bytes(data["unlabeled"]))
    (folder / "class_names.txt").write_text("\n".join(STL_NAMES) + "\n")
    n = len(data["train"][0])
    (folder / "fold_indices.txt").write_text(
        "".join(" ".join(str((i + j) % n) for j in range(3)) + " \n" for i in range(10))
    )
    return folder


def md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


def md5s(folder: Path) -> dict[str, str]:
    """md5 of every file in `folder`, by name."""
    return {p.name: md5(p) for p in sorted(folder.iterdir()) if p.is_file()}


def make_tar_gz(
    archive: Path, folder: Path, extra: list[tarfile.TarInfo] | None = None, *, extra_first: bool = False
) -> Path:
    """`folder` packed as `archive` (members `folder.name/...`); `extra` headers added last (or first)."""

    def add_extra(tar: tarfile.TarFile) -> None:
        for info in extra or []:
            payload = b"x" * info.size
            tar.addfile(info, io.BytesIO(payload) if info.isreg() else None)

    with tarfile.open(archive, "w:gz") as tar:
        if extra_first:
            add_extra(tar)
        tar.add(folder, arcname=folder.name)
        if not extra_first:
            add_extra(tar)
    return archive


def member(name: str, kind: bytes = tarfile.REGTYPE, linkname: str = "", size: int = 4) -> tarfile.TarInfo:
    """A tar header: a regular file of `size` bytes, or a link / device / FIFO per `kind`."""
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = linkname
    info.size = size if kind == tarfile.REGTYPE else 0
    return info
