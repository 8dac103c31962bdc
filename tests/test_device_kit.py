"""The GPU kit: which packages travel, the data round trip, and the checks it runs."""

import gzip
import importlib.metadata as metadata

import pytest

from course_tools import device_kit


class _Dist:
    def __init__(self, version: str, requires: list[str]):
        self.version, self.requires = version, requires


def test_the_needs_of_the_roots_travel_but_not_what_the_image_has_nor_other_platforms():
    index = {
        "papermill": _Dist("2.7.0", ["nbclient>=0.2", "torch", "pywin32; sys_platform == 'win32'",
                                     "black; extra == 'black'", "old-backport; python_version < '3.8'"]),
        "nbclient": _Dist("0.11.0", ["traitlets>=5.4", "appnope; sys_platform == 'darwin'"]),
        "traitlets": _Dist("5.15.0", []),
    }

    def distribution(name):
        if name not in index:
            raise metadata.PackageNotFoundError(name)
        return index[name]

    carried = device_kit.packages_to_carry(["papermill"], frozenset({"torch"}), distribution)
    assert carried == {"nbclient": "0.11.0", "papermill": "2.7.0", "traitlets": "5.15.0"}
    index["nbclient"].requires.append("not-installed-here")
    with pytest.raises(SystemExit, match="not-installed-here is not installed here"):
        device_kit.packages_to_carry(["papermill"], frozenset({"torch"}), distribution)


def test_the_course_s_own_kit_leaves_torch_and_numpy_on_the_image():
    carried = device_kit.packages_to_carry()
    assert {"papermill", "ipykernel", "ipywidgets", "mlxtend"} <= set(carried)
    assert not {"torch", "numpy", "matplotlib", "scikit-learn", "pandas"} & set(carried)


def test_the_data_travels_gzipped_and_is_unpacked_where_the_lessons_read_first(tmp_path):
    packed, raw = tmp_path / "packed", tmp_path / "data" / "FashionMNIST" / "raw"
    packed.mkdir()
    for i, stem in enumerate(device_kit.FASHION_FILES):
        with gzip.open(packed / f"{stem}.gz", "wb") as stream:
            stream.write(bytes([i]) * 100)
    device_kit.unpack_data(packed, raw)
    assert [(raw / s).read_bytes()[:1] for s in device_kit.FASHION_FILES] == [bytes([i]) for i in range(4)]
    (packed / f"{device_kit.FASHION_FILES[0]}.gz").unlink()
    with pytest.raises(SystemExit, match="run `prepare` here"):
        device_kit.unpack_data(packed, raw)


def test_a_run_names_the_checks_it_knows_and_writes_its_tables_under_out(tmp_path, capsys):
    with pytest.raises(SystemExit, match="choose checks from"):
        device_kit.run(["benchmark"], tmp_path, dry_run=True)
    assert device_kit.run(["bench", "matrix"], tmp_path, dry_run=True) == 0
    printed = capsys.readouterr().out
    assert "course_tools.bench --device cuda" in printed
    assert f"--output {tmp_path}/claims_matrix_cuda.md" in printed


def test_without_wheels_the_install_says_to_prepare_them_first(tmp_path):
    with pytest.raises(SystemExit, match="device_kit prepare"):
        device_kit.install(tmp_path / "no-wheels", tmp_path / "site")
