"""bench: a smoke run of the benchmark reports sane numbers (no speed threshold)."""

import re

import pytest
import torch

from course_tools import bench


def test_quick_benchmark_reports_both_paths_and_lesson_estimates(capsys):
    table = bench.main(["--quick", "--dataset", "mnist", "--models", "mlp_ae", "--device", "cpu"])
    quality_row, epoch_row = [line for line in table.splitlines() if line.startswith("| mlp_ae")]
    quality = [c.strip() for c in quality_row.strip("|").split("|")]
    assert quality[1] == "1" and 0 < float(quality[2]) < 0.7  # one seed; the usual loop's test BCE
    assert quality[7].endswith("x") or quality[7] == "not reached"
    cells = [c.strip() for c in epoch_row.strip("|").split("|")]
    course_s, baseline_s, speedup = float(cells[1]), float(cells[2]), float(cells[3].rstrip("x"))
    course_loss, baseline_loss = float(cells[4]), float(cells[5])
    assert course_s > 0 and baseline_s > 0 and speedup > 0
    assert 0 < course_loss < 0.7 and 0 < baseline_loss < 0.7  # BCE per pixel after one short epoch
    assert re.search(r"\| 02_vanilla_autoencoder \| \d+ s \|", table)
    assert "course" in capsys.readouterr().out


def test_baseline_dataset_serves_tensors_like_torchvision():
    image, label = bench.baseline_dataset("mnist")[0]
    assert tuple(image.shape) == (1, 28, 28) and 0 <= float(image.min()) and float(image.max()) <= 1
    assert isinstance(label, int)


def test_unknown_model_is_refused():
    with pytest.raises(SystemExit):
        bench.main(["--models", "gan"])


def test_warm_up_trains_every_model_both_ways_on_a_few_images(monkeypatch):
    calls = []
    monkeypatch.setattr(bench, "train_baseline", lambda name, model, dataset, size, epochs, device:
                        calls.append(("baseline", name, size, epochs)))
    monkeypatch.setattr(bench, "train_course", lambda name, model, images, epochs, seed:
                        calls.append(("course", name, len(images), epochs)))
    bench.warm_up(["mlp_ae", "conv_ae"], torch.rand(100, 1, 28, 28), "mnist", torch.device("cpu"), size=64)
    assert calls == [("baseline", "mlp_ae", 64, 1), ("course", "mlp_ae", 64, 1),
                     ("baseline", "conv_ae", 64, 1), ("course", "conv_ae", 64, 1)]
