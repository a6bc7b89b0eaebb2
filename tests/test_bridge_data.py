"""dynamics.bridge.data: CIFAR-10 / STL-10 / digits loaders on tiny files in the official formats."""

from __future__ import annotations

import gzip
import hashlib
import os
import pickle
import sys
import tarfile
import warnings
from pathlib import Path

import numpy as np
import pytest

import bridge_data_fixtures as fx
from dynamics.bridge import data as D
from dynamics.bridge.data import _cifar, _stl10
from dynamics.bridge.data._pickle import RefusedGlobal, restricted_loads
from dynamics.config import ConfigError


def _cifar_train(batches):
    return np.concatenate([x for x, _ in batches[:5]]), np.concatenate([y for _, y in batches[:5]])


def _listing(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


@pytest.fixture()
def batches():
    return fx.cifar_data(seed=1)


@pytest.fixture()
def stl():
    return fx.stl_data(seed=2)


# ---------------------------------------------------------------- CIFAR-10: round trips


@pytest.mark.parametrize("legacy_numpy", [True, False], ids=["numpy.core", "numpy._core"])
def test_cifar_python_folder_round_trip(tmp_path, batches, legacy_numpy):
    folder = fx.write_cifar_python(tmp_path, batches, legacy_numpy)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # verified: no warning at all
        ds = D.load_cifar10(tmp_path, checksums=fx.md5s(folder))
    train_x, train_y = _cifar_train(batches)
    assert ds.name == "cifar10" and ds.kind == "images" and ds.image_shape == (32, 32, 3)
    assert ds.train_x.dtype == np.uint8 and ds.train_y.dtype == np.int32 and ds.test_y.dtype == np.int32
    np.testing.assert_array_equal(ds.train_x, train_x)
    np.testing.assert_array_equal(ds.train_y, train_y)
    np.testing.assert_array_equal(ds.test_x, batches[5][0])
    np.testing.assert_array_equal(ds.test_y, batches[5][1])
    assert ds.pretrain is ds.train_x
    assert ds.class_names == fx.CIFAR_NAMES and ds.num_classes == 10
    assert ds.verified and "extracted folder" in ds.source
    expected_mean = train_x.reshape(-1, 3).mean(axis=0) / 255
    expected_std = train_x.reshape(-1, 3).std(axis=0) / 255
    np.testing.assert_allclose(ds.mean, expected_mean, rtol=1e-12)
    np.testing.assert_allclose(ds.std, expected_std, rtol=1e-9)


def test_cifar_pixel_layout_is_planes_row_major(tmp_path):
    """Pixel (row r, column c) of channel k is byte k*1024 + r*32 + c (from the dataset's page)."""
    batches = fx.cifar_data(seed=3, counts=(1, 1, 1, 1, 1), n_test=1)
    folder = fx.write_cifar_binary(tmp_path, batches)
    raw = np.frombuffer((folder / "test_batch.bin").read_bytes(), dtype=np.uint8)
    with pytest.warns(D.UnverifiedDataWarning):
        ds = D.load_cifar10(tmp_path, checksums={})
    assert ds.test_y[0] == raw[0]
    for r, c, k in [(0, 0, 0), (0, 1, 0), (1, 0, 0), (5, 7, 1), (31, 30, 2)]:
        assert ds.test_x[0, r, c, k] == raw[1 + k * 1024 + r * 32 + c]


def test_cifar_python_archive_round_trip_reads_without_extracting(tmp_path, batches):
    src = fx.write_cifar_python(tmp_path / "src", batches)
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    archive = fx.make_tar_gz(data_dir / "cifar-10-python.tar.gz", src)
    ds = D.load_cifar10(data_dir, checksums={"cifar-10-python.tar.gz": fx.md5(archive)})
    train_x, train_y = _cifar_train(batches)
    np.testing.assert_array_equal(ds.train_x, train_x)
    np.testing.assert_array_equal(ds.train_y, train_y)
    np.testing.assert_array_equal(ds.test_x, batches[5][0])
    assert ds.verified and "archive" in ds.source and ds.class_names == fx.CIFAR_NAMES
    assert _listing(data_dir) == ["cifar-10-python.tar.gz"]  # nothing extracted


@pytest.mark.parametrize("packed", [False, True], ids=["folder", "archive"])
def test_cifar_binary_round_trip(tmp_path, batches, packed):
    folder = fx.write_cifar_binary(tmp_path / "src", batches)
    if packed:
        data_dir = tmp_path / "data"
        data_dir.mkdir()
        archive = fx.make_tar_gz(data_dir / "cifar-10-binary.tar.gz", folder)
        checksums = {"cifar-10-binary.tar.gz": fx.md5(archive)}
    else:
        data_dir, checksums = tmp_path / "src", fx.md5s(folder)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ds = D.load_cifar10(data_dir, checksums=checksums)
    train_x, train_y = _cifar_train(batches)
    np.testing.assert_array_equal(ds.train_x, train_x)
    np.testing.assert_array_equal(ds.train_y, train_y)
    np.testing.assert_array_equal(ds.test_x, batches[5][0])
    np.testing.assert_array_equal(ds.test_y, batches[5][1])
    assert ds.verified and ds.class_names == fx.CIFAR_NAMES and "binary" in ds.source


def test_cifar_binary_folder_without_md5s_warns_unverified(tmp_path, batches):
    fx.write_cifar_binary(tmp_path, batches)
    with pytest.warns(D.UnverifiedDataWarning, match="no md5 is known"):
        ds = D.load_cifar10(tmp_path, checksums={"cifar-10-binary.tar.gz": "0" * 32})
    assert not ds.verified
    np.testing.assert_array_equal(ds.test_x, batches[5][0])


def test_cifar_binary_folder_with_official_table_checks_record_counts(tmp_path, batches):
    fx.write_cifar_binary(tmp_path, batches)  # 3 records, not the official 10 000
    with pytest.raises(D.DataError, match=r"data_batch_1\.bin.*10000 records"):
        D.load_cifar10(tmp_path)


def test_cifar_prefers_complete_folder_and_fmt_selects(tmp_path, batches):
    fx.write_cifar_python(tmp_path, batches)
    other = fx.cifar_data(seed=9)
    fx.write_cifar_binary(tmp_path, other)
    with pytest.warns(D.UnverifiedDataWarning):
        py = D.load_cifar10(tmp_path, verify=False)
        binary = D.load_cifar10(tmp_path, verify=False, fmt="binary")
    np.testing.assert_array_equal(py.test_x, batches[5][0])
    np.testing.assert_array_equal(binary.test_x, other[5][0])
    with pytest.raises(ConfigError, match="fmt"):
        D.load_cifar10(tmp_path, fmt="matlab")


# ---------------------------------------------------------------- pickle safety


class _Payload:
    def __init__(self, func, arg):
        self.func, self.arg = func, arg

    def __reduce__(self):
        return (self.func, (self.arg,))


@pytest.mark.parametrize("where", ["data", "meta"])
@pytest.mark.parametrize("kind", ["os.system", "builtins.exec"])
def test_malicious_pickle_is_refused_and_not_run(tmp_path, batches, kind, where):
    folder = fx.write_cifar_python(tmp_path, batches)
    marker = tmp_path / "pwned"
    if kind == "os.system":
        payload = _Payload(os.system, f"touch {marker}")
        refused = f"{os.system.__module__}.system"
    else:
        payload = _Payload(exec, f"open({str(marker)!r}, 'w').close()")
        refused = "__builtin__.exec"  # protocol 2 writes Python 2's module name
    target = folder / ("batches.meta" if where == "meta" else "data_batch_2")
    target.write_bytes(pickle.dumps({"data": payload, "labels": [1]}, protocol=2))
    with pytest.raises(D.DataError, match="refused to unpickle") as info:
        D.load_cifar10(tmp_path, checksums=fx.md5s(folder))  # md5 matches: the unpickler is the guard
    assert refused in str(info.value) and target.name in str(info.value)
    assert not marker.exists()


def test_restricted_unpickler_never_imports_a_refused_module():
    name = "dynamics_bridge_data_never_imported"
    crafted = b"\x80\x02c" + name.encode() + b"\nboom\n)R."
    with pytest.raises(RefusedGlobal, match=name):
        restricted_loads(crafted)
    assert name not in sys.modules
    # the allowed names still build a genuine batch
    batch = restricted_loads(fx.py2_pickle({"data": np.arange(6, dtype=np.uint8).reshape(2, 3)}))
    np.testing.assert_array_equal(batch[b"data"], [[0, 1, 2], [3, 4, 5]])


def test_truncated_pickle_is_refused(tmp_path, batches):
    folder = fx.write_cifar_python(tmp_path, batches)
    path = folder / "data_batch_4"
    path.write_bytes(path.read_bytes()[:-40])
    with pytest.raises(D.DataError, match=r"data_batch_4.*not a readable pickle"):
        D.load_cifar10(tmp_path, checksums=fx.md5s(folder))


def test_pickle_with_wrong_structure_is_refused(tmp_path, batches):
    folder = fx.write_cifar_python(tmp_path, batches)
    (folder / "test_batch").write_bytes(
        fx.py2_pickle({"data": np.zeros((2, 100), dtype=np.uint8), "labels": [0, 1]})
    )
    with pytest.raises(D.DataError, match=r"test_batch.*uint8 array \(N, 3072\)"):
        D.load_cifar10(tmp_path, verify=False)


# ---------------------------------------------------------------- tar safety

_UNSAFE = {  # case: (header, what the error says)
    "dotdot": (dict(name="../evil.txt"), "contains '..'"),
    "dotdot-inside": (dict(name="{folder}/../../evil.txt"), "contains '..'"),
    "absolute": (dict(name="/tmp/evil.txt"), "absolute path"),
    "symlink": (
        dict(name="{folder}/data_batch_1", kind=tarfile.SYMTYPE, linkname="/etc/passwd"),
        "holds a link",
    ),
    "hardlink": (dict(name="{folder}/evil", kind=tarfile.LNKTYPE, linkname="/etc/passwd"), "holds a link"),
    "device": (dict(name="{folder}/dev", kind=tarfile.CHRTYPE), "device or FIFO"),
    "fifo": (dict(name="{folder}/fifo", kind=tarfile.FIFOTYPE), "device or FIFO"),
}


def _unsafe(case: str, folder: str) -> tuple[tarfile.TarInfo, str]:
    spec, message = _UNSAFE[case]
    spec = {**spec, "name": spec["name"].format(folder=folder)}
    return fx.member(**spec), message


@pytest.mark.parametrize("case", ["dotdot", "symlink", "device"])
def test_cifar_archive_with_unsafe_member_is_refused(tmp_path, batches, case):
    src = fx.write_cifar_python(tmp_path / "src", batches)
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    info, message = _unsafe(case, "cifar-10-batches-py")
    archive = fx.make_tar_gz(data_dir / "cifar-10-python.tar.gz", src, [info])  # after the good members
    with pytest.raises(D.DataError, match=f"{message}.*unsafe archive") as err:
        D.load_cifar10(data_dir, checksums={"cifar-10-python.tar.gz": fx.md5(archive)})
    assert info.name in str(err.value) and "cifar-10-python.tar.gz" in str(err.value)
    assert _listing(data_dir) == ["cifar-10-python.tar.gz"]


@pytest.mark.parametrize("case", sorted(_UNSAFE))
def test_stl_archive_with_unsafe_member_extracts_nothing(tmp_path, stl, case):
    src = fx.write_stl(tmp_path / "src", stl)
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    info, message = _unsafe(case, "stl10_binary")
    archive = fx.make_tar_gz(data_dir / "stl10_binary.tar.gz", src, [info])  # after the good members
    with pytest.raises(D.DataError, match=f"{message}.*unsafe archive") as err:
        D.load_stl10(data_dir, checksums={"stl10_binary.tar.gz": fx.md5(archive)})
    assert info.name in str(err.value)
    assert _listing(data_dir) == ["stl10_binary.tar.gz"]  # no folder, no temporary folder
    assert not (tmp_path / "evil.txt").exists()


def test_stl_archive_member_outside_its_folder_is_refused(tmp_path, stl):
    src = fx.write_stl(tmp_path / "src", stl)
    archive = fx.make_tar_gz(
        tmp_path / "stl10_binary.tar.gz", src, [fx.member("other/file.txt")], extra_first=True
    )
    with pytest.raises(D.DataError, match=r"other/file\.txt.*outside stl10_binary/"):
        D.load_stl10(tmp_path, verify=False)
    assert archive.exists() and not (tmp_path / "stl10_binary").exists()


def test_archives_with_dot_slash_member_names_are_read(tmp_path, batches, stl):
    """`tar czf a.tar.gz ./folder` writes members `.`, `./folder/...`: harmless, accepted."""
    cifar_src = fx.write_cifar_python(tmp_path / "src", batches)
    stl_src = fx.write_stl(tmp_path / "src", stl)
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    for name, folder in (("cifar-10-python.tar.gz", cifar_src), ("stl10_binary.tar.gz", stl_src)):
        with tarfile.open(data_dir / name, "w:gz") as tar:
            tar.add(
                tmp_path / "src",
                arcname=".",
                filter=lambda m, f=folder.name: m if f in m.name or m.name == "." else None,
            )
        assert tarfile.open(data_dir / name).getnames()[:2] == [".", f"./{folder.name}"]
    with pytest.warns(D.UnverifiedDataWarning):
        cifar = D.load_cifar10(data_dir, verify=False)
        stl10 = D.load_stl10(data_dir, verify=False)
    np.testing.assert_array_equal(cifar.test_x, batches[5][0])
    np.testing.assert_array_equal(stl10.test_x, stl["test"][0])


# ---------------------------------------------------------------- corrupt, truncated, wrong checksum


def test_truncated_binary_batch_is_refused(tmp_path, batches):
    folder = fx.write_cifar_binary(tmp_path, batches)
    path = folder / "data_batch_3.bin"
    path.write_bytes(path.read_bytes()[:-5])
    with pytest.raises(D.DataError, match=r"data_batch_3\.bin.*3073-byte records"):
        D.load_cifar10(tmp_path, checksums=fx.md5s(folder))


def test_binary_label_byte_out_of_range_is_refused(tmp_path, batches):
    folder = fx.write_cifar_binary(tmp_path, batches)
    path = folder / "data_batch_5.bin"
    raw = bytearray(path.read_bytes())
    raw[3073] = 10  # label byte of the second record
    path.write_bytes(bytes(raw))
    with pytest.raises(D.DataError, match=r"data_batch_5\.bin.*0\.\.9"):
        D.load_cifar10(tmp_path, verify=False)


@pytest.mark.parametrize("damage", ["truncated", "not-gzip"])
def test_corrupt_gzip_archive_is_refused(tmp_path, batches, damage):
    src = fx.write_cifar_python(tmp_path / "src", batches)
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    archive = fx.make_tar_gz(data_dir / "cifar-10-python.tar.gz", src)
    raw = archive.read_bytes()
    archive.write_bytes(raw[: len(raw) // 2] if damage == "truncated" else b"PK\x03\x04" + raw[4:])
    with pytest.raises(D.DataError, match=r"cifar-10-python\.tar\.gz.*truncated or corrupt"):
        D.load_cifar10(data_dir, checksums={"cifar-10-python.tar.gz": fx.md5(archive)})
    assert _listing(data_dir) == ["cifar-10-python.tar.gz"]


def test_corrupt_stl_archive_leaves_no_partial_folder(tmp_path, stl):
    src = fx.write_stl(tmp_path / "src", stl)
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    archive = fx.make_tar_gz(data_dir / "stl10_binary.tar.gz", src)
    archive.write_bytes(archive.read_bytes()[:-200])
    with pytest.raises(D.DataError, match="truncated or corrupt"):
        D.load_stl10(data_dir, checksums={"stl10_binary.tar.gz": fx.md5(archive)})
    assert _listing(data_dir) == ["stl10_binary.tar.gz"]


def test_wrong_checksum_is_refused_naming_the_file(tmp_path, batches):
    folder = fx.write_cifar_python(tmp_path, batches)
    sums = fx.md5s(folder)
    sums["data_batch_2"] = "0123456789abcdef0123456789abcdef"
    with pytest.raises(D.DataError, match="expected md5 0123456789abcdef0123456789abcdef") as err:
        D.load_cifar10(tmp_path, checksums=sums)
    assert str(folder / "data_batch_2") in str(err.value)


def test_official_checksums_refuse_a_fixture_archive(tmp_path, batches):
    src = fx.write_cifar_python(tmp_path / "src", batches)
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    fx.make_tar_gz(data_dir / "cifar-10-python.tar.gz", src)
    with pytest.raises(D.DataError, match="expected md5 c58f30108f718f92721af3b95e74349a"):
        D.load_cifar10(data_dir)


def test_verify_false_warns_and_loads_a_modified_copy(tmp_path, batches):
    fx.write_cifar_python(tmp_path, batches)  # official md5s cannot match
    with pytest.warns(D.UnverifiedDataWarning, match=r"checksums were not verified.*verify=False"):
        ds = D.load_cifar10(tmp_path, verify=False)
    assert not ds.verified
    np.testing.assert_array_equal(ds.test_x, batches[5][0])


# ---------------------------------------------------------------- missing files and download


def test_missing_cifar_names_archive_url_and_folder(tmp_path):
    with pytest.raises(D.DataError) as err:
        D.load_cifar10(tmp_path)
    text = str(err.value)
    for needle in (
        "cifar-10-python.tar.gz",
        "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz",
        "cifar-10-batches-py/",
        "download=True",
        str(tmp_path)[:20],
    ):
        assert needle in text, needle
    assert isinstance(err.value, ConfigError)


def test_incomplete_cifar_folder_lists_missing_files(tmp_path, batches):
    folder = fx.write_cifar_python(tmp_path, batches)
    (folder / "data_batch_5").unlink()
    with pytest.raises(D.DataError, match=r"cifar-10-batches-py/ lacks data_batch_5"):
        D.load_cifar10(tmp_path, fmt="python")


def test_missing_stl_names_archive_and_url(tmp_path):
    with pytest.raises(
        D.DataError,
        match=r"stl10_binary\.tar\.gz.*http://ai\.stanford\.edu/~acoates/stl10/stl10_binary\.tar\.gz",
    ):
        D.load_stl10(tmp_path)


def test_download_uses_temporary_file_and_checks_md5(tmp_path, batches, monkeypatch):
    src = fx.write_cifar_python(tmp_path / "src", batches)
    served = fx.make_tar_gz(tmp_path / "served.tar.gz", src)
    good = fx.md5(served)
    monkeypatch.setattr(
        _cifar,
        "CIFAR10_PYTHON",
        D.Archive(
            "cifar-10-python.tar.gz", served.as_uri(), "cifar-10-batches-py", None, "CIFAR-10 python version"
        ),
    )
    data_dir = tmp_path / "data"
    with pytest.raises(D.DataError, match="md5 differs"):
        D.load_cifar10(data_dir, download=True, checksums={"cifar-10-python.tar.gz": "f" * 32})
    assert _listing(data_dir) == []  # no partial download left
    ds = D.load_cifar10(data_dir, download=True, checksums={"cifar-10-python.tar.gz": good})
    assert _listing(data_dir) == ["cifar-10-python.tar.gz"] and ds.verified
    np.testing.assert_array_equal(ds.test_x, batches[5][0])


def test_download_failure_is_a_data_error(tmp_path, monkeypatch):
    monkeypatch.setattr(
        _stl10,
        "STL10",
        D.Archive(
            "stl10_binary.tar.gz", (tmp_path / "absent.tar.gz").as_uri(), "stl10_binary", None, "STL-10"
        ),
    )
    with pytest.raises(D.DataError, match=r"download failed.*stl10_binary\.tar\.gz by hand"):
        D.load_stl10(tmp_path / "data", download=True)
    assert _listing(tmp_path / "data") == []


# ---------------------------------------------------------------- STL-10


def test_stl_folder_round_trip(tmp_path, stl):
    folder = fx.write_stl(tmp_path, stl)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ds = D.load_stl10(tmp_path, checksums=fx.md5s(folder))
    train_x, train_y = stl["train"]
    np.testing.assert_array_equal(ds.train_x, train_x)
    np.testing.assert_array_equal(ds.train_y, train_y - 1)  # 1..10 -> 0..9
    np.testing.assert_array_equal(ds.test_x, stl["test"][0])
    np.testing.assert_array_equal(ds.test_y, stl["test"][1] - 1)
    np.testing.assert_array_equal(ds.pretrain, np.concatenate([train_x, stl["unlabeled"]]))
    assert ds.image_shape == (96, 96, 3) and ds.class_names == fx.STL_NAMES and ds.verified
    assert len(ds.train_y) == len(ds.train_x) == 5  # the unlabeled images carry no labels


def test_stl_pixel_layout_is_column_major(tmp_path, stl):
    folder = fx.write_stl(tmp_path, stl)
    raw = np.fromfile(folder / "test_X.bin", dtype=np.uint8)
    ds = D.load_stl10(tmp_path, checksums=fx.md5s(folder))
    for r, c, k in [(0, 1, 0), (1, 0, 0), (10, 20, 1), (95, 3, 2)]:
        assert ds.test_x[0, r, c, k] == raw[k * 9216 + c * 96 + r]


def test_stl_max_unlabeled(tmp_path, stl):
    folder = fx.write_stl(tmp_path, stl)
    sums = fx.md5s(folder)
    two = D.load_stl10(tmp_path, checksums=sums, max_unlabeled=2)
    np.testing.assert_array_equal(two.pretrain[5:], stl["unlabeled"][:2])
    assert len(two.pretrain) == 7
    (folder / "unlabeled_X.bin").unlink()
    none = D.load_stl10(tmp_path, checksums=sums, max_unlabeled=0)  # file not needed
    assert none.pretrain is none.train_x
    with pytest.raises(ConfigError, match="max_unlabeled"):
        D.load_stl10(tmp_path, max_unlabeled=-1)


def test_stl_archive_is_extracted_once(tmp_path, stl):
    src = fx.write_stl(tmp_path / "src", stl)
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    archive = fx.make_tar_gz(data_dir / "stl10_binary.tar.gz", src)
    sums = {"stl10_binary.tar.gz": fx.md5(archive), **fx.md5s(src)}
    first = D.load_stl10(data_dir, checksums=sums)
    assert "archive, extracted" in first.source and first.verified
    assert _listing(data_dir) == ["stl10_binary", "stl10_binary.tar.gz"] + [
        f"stl10_binary/{p.name}" for p in sorted(src.iterdir())
    ]
    second = D.load_stl10(data_dir, checksums=sums)
    assert "extracted folder" in second.source
    np.testing.assert_array_equal(first.pretrain, second.pretrain)


@pytest.mark.parametrize("damage", ["X-truncated", "y-short", "label-zero"])
def test_stl_damaged_files_are_refused(tmp_path, stl, damage):
    folder = fx.write_stl(tmp_path, stl)
    if damage == "X-truncated":
        path = folder / "train_X.bin"
        path.write_bytes(path.read_bytes()[:-1])
        pattern = r"train_X\.bin.*27648-byte images"
    elif damage == "y-short":
        path = folder / "test_y.bin"
        path.write_bytes(path.read_bytes()[:-1])
        pattern = r"test_y\.bin.*one label byte per image"
    else:
        path = folder / "train_y.bin"
        path.write_bytes(b"\x00" + path.read_bytes()[1:])
        pattern = r"train_y\.bin.*1\.\.10"
    with pytest.raises(D.DataError, match=pattern):
        D.load_stl10(tmp_path, checksums=fx.md5s(folder))


def test_stl_wrong_checksum_and_incomplete_folder(tmp_path, stl):
    folder = fx.write_stl(tmp_path, stl)
    with pytest.raises(D.DataError, match=r"train_X\.bin.*expected md5 918c2871b30a85fa023e0c44e0bee87f"):
        D.load_stl10(tmp_path)
    (folder / "test_y.bin").unlink()
    with pytest.raises(D.DataError, match=r"stl10_binary.*test_y\.bin.*incomplete"):
        D.load_stl10(tmp_path, verify=False)


def test_stl_folds(tmp_path, stl):
    folder = fx.write_stl(tmp_path, stl)
    folds = D.load_stl10_folds(tmp_path)
    assert len(folds) == 10 and all(f.dtype == np.int64 for f in folds)
    np.testing.assert_array_equal(folds[1], [1, 2, 3])
    (folder / "fold_indices.txt").write_text("0 1 9\n" * 10)  # 9 is outside the 5 training images
    with pytest.raises(D.DataError, match="fold_indices.txt"):
        D.load_stl10_folds(tmp_path)


# ---------------------------------------------------------------- digits


def test_digits_shape_values_and_split():
    ds = D.load_digits()
    assert ds.name == "digits" and ds.pretrain is ds.train_x
    assert ds.train_x.shape == (1500, 16, 16, 3) and ds.test_x.shape == (297, 16, 16, 3)
    assert ds.train_x.dtype == np.uint8 and ds.train_y.dtype == np.int32
    assert ds.train_x.max() == 255 and ds.train_x.min() == 0
    np.testing.assert_array_equal(ds.train_x[..., 0], ds.train_x[..., 2])  # gray repeated
    # nearest-neighbour 2x: every 2x2 block is one 8x8 pixel scaled by 255/16
    from sklearn.datasets import load_digits

    raw = load_digits()
    order = np.random.default_rng(0).permutation(1797)
    first = np.rint(raw.images[order[0]] * 255 / 16)
    np.testing.assert_array_equal(ds.train_x[0, ::2, ::2, 0], first)
    np.testing.assert_array_equal(ds.train_x[0, 1::2, 1::2, 0], first)
    assert ds.train_y[0] == raw.target[order[0]]
    split = set(order[:1500].tolist())
    assert len(split) == 1500 and not split & set(order[1500:].tolist())


def test_digits_split_is_deterministic_and_seeded():
    a, b, c = D.load_digits(seed=5), D.load_digits(seed=5), D.load_digits(seed=6)
    np.testing.assert_array_equal(a.train_x, b.train_x)
    np.testing.assert_array_equal(a.test_y, b.test_y)
    assert not np.array_equal(a.train_y, c.train_y)
    small = D.load_digits(image_size=8, n_train=100)
    assert small.train_x.shape == (100, 8, 8, 3) and small.test_x.shape == (1697, 8, 8, 3)
    assert D.load_digits(image_size=24).image_shape == (24, 24, 3)
    # nearest neighbour at a size that is not a multiple of 8: output i reads input floor(i * 8 / 12)
    twelve, eight = D.load_digits(image_size=12), D.load_digits(image_size=8)
    index = [0, 0, 1, 2, 2, 3, 4, 4, 5, 6, 6, 7]
    np.testing.assert_array_equal(twelve.train_x, eight.train_x[:, index][:, :, index])
    for bad in (dict(image_size=4), dict(n_train=1797), dict(n_train=0)):
        with pytest.raises(ConfigError):
            D.load_digits(**bad)


# ---------------------------------------------------------------- dispatch, container, helpers


def test_load_dataset_dispatch(tmp_path, batches):
    assert D.load_dataset("digits", image_size=8).image_shape == (8, 8, 3)
    folder = fx.write_cifar_python(tmp_path, batches)
    ds = D.load_dataset("cifar10", tmp_path, checksums=fx.md5s(folder))
    assert ds.name == "cifar10" and ds.verified
    with pytest.raises(ConfigError, match="dynamics.bridge.synthetic"):
        D.load_dataset("synthetic")
    with pytest.raises(ConfigError, match="must be one of cifar10, stl10, digits, synthetic"):
        D.load_dataset("mnist")
    with pytest.raises(ConfigError, match="max_unlabeled"):
        D.load_dataset("cifar10", tmp_path, max_unlabeled=3)
    none = D.load_dataset("cifar10", tmp_path, checksums=fx.md5s(folder), max_unlabeled=None, fmt=None)
    np.testing.assert_array_equal(none.train_x, ds.train_x)  # None: not given
    with pytest.raises(D.DataError, match="--data-dir"):
        D.load_dataset("stl10")
    assert set(D.DATASETS) == {"cifar10", "stl10", "digits", "synthetic"}


def test_dataset_holds_vectors_and_checks_consistency():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(6, 4)).astype(np.float32)
    y = np.array([0, 1, 0, 1, 0, 1], dtype=np.int32)
    ds = D.Dataset("synthetic", x, x, y, x, y, 2, ("a", "b"), (), (), "test", True)
    assert ds.kind == "vectors" and ds.image_shape is None
    with pytest.raises(D.DataError, match="train_y"):
        D.Dataset("synthetic", x, x, y.astype(np.int64), x, y, 2, ("a", "b"), (), (), "test", True)
    with pytest.raises(D.DataError, match="labels must lie in 0..1"):
        D.Dataset("synthetic", x, x, y + 1, x, y, 2, ("a", "b"), (), (), "test", True)
    img = np.zeros((2, 4, 4, 3), dtype=np.uint8)
    with pytest.raises(D.DataError, match="one value per channel"):
        D.Dataset("x", img, img, y[:2], img, y[:2], 2, ("a", "b"), (0.5,), (0.5,), "test", True)


def test_channel_stats_matches_numpy():
    images = np.random.default_rng(1).integers(0, 256, size=(37, 5, 6, 3), dtype=np.uint8)
    mean, std = D.channel_stats(images, chunk=100)  # forces several chunks
    flat = images.reshape(-1, 3) / 255.0
    np.testing.assert_allclose(mean, flat.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(std, flat.std(axis=0), rtol=1e-9)


def test_md5sum_streams_whole_file(tmp_path):
    path = tmp_path / "blob"
    payload = os.urandom((1 << 20) * 2 + 123)  # spans three 1 MiB blocks
    path.write_bytes(payload)
    assert D.md5sum(path) == hashlib.md5(payload).hexdigest()
    gz = tmp_path / "blob.gz"
    gz.write_bytes(gzip.compress(payload))
    assert D.md5sum(gz) != D.md5sum(path)


def test_official_constants():
    assert D.CIFAR10_PYTHON.url == "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
    assert D.CIFAR10_BINARY.url == "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz"
    assert D.STL10.url == "http://ai.stanford.edu/~acoates/stl10/stl10_binary.tar.gz"
    assert D.CIFAR10_MD5["cifar-10-python.tar.gz"] == "c58f30108f718f92721af3b95e74349a"
    assert D.CIFAR10_MD5["cifar-10-binary.tar.gz"] == "c32a1d4ab5d03f1284b67883e8d87530"
    assert D.CIFAR10_MD5["test_batch"] == "40351d587109b95175f43aff81a1287e"
    assert D.STL10_MD5["stl10_binary.tar.gz"] == "91f7769df0f17e558f3565bffb0c7dfb"
    assert D.STL10_MD5["unlabeled_X.bin"] == "5242ba1fed5e4be9e1e742405eb56ca4"
    for table in (D.CIFAR10_MD5, D.STL10_MD5):
        assert all(len(v) == 32 and int(v, 16) >= 0 for v in table.values())
