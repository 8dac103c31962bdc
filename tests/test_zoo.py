"""zoo: a model two lessons share is trained once and found again by the same call."""

import torch

from course_utils import data, zoo


def _splits() -> data.Splits:
    g = torch.Generator().manual_seed(0)
    images, labels = torch.rand(64, 1, 28, 28, generator=g), torch.arange(64) % 10
    names = tuple(str(i) for i in range(10))
    part = data.ImageSet(images, labels, names)
    first = part.take(list(range(16)))
    return data.Splits(name="mnist", source="random test pixels", train=part, val=first, test=first)


def test_the_same_call_loads_what_the_first_one_trained(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_CHECKPOINT_DIR", str(tmp_path))
    splits = _splits()
    first, history = zoo.mlp_autoencoder(splits, 2, epochs=1, seed=0, device="cpu")
    again, _ = zoo.mlp_autoencoder(splits, 2, epochs=1, seed=0, device="cpu")
    assert history.epochs == 1 and len(list(tmp_path.glob("mlp_ae_mnist_z2-*.pt"))) == 1
    for p, q in zip(first.parameters(), again.parameters()):
        assert torch.equal(p, q)
    zoo.mlp_autoencoder(splits, 2, epochs=2, seed=0, device="cpu")  # another budget: a file of its own
    assert len(list(tmp_path.glob("mlp_ae_mnist_z2-*.pt"))) == 2


def test_a_named_training_set_gets_a_cache_entry_of_its_own(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_CHECKPOINT_DIR", str(tmp_path))
    splits = _splits()
    options = {"dataset": "mnist", "latent_dim": 2, "epochs": 1, "seed": 0, "batch_size": 32, "device": "cpu"}
    zoo.conv_model("ae", splits.train, splits.val.images, **options)
    zoo.conv_model("ae", splits.train, splits.val.images, training_set="without class 8", **options)
    zoo.conv_model("ae", splits.train, splits.val.images, training_set="without class 8", **options)  # loaded
    assert len(list(tmp_path.glob("conv_ae_mnist_z2-*.pt"))) == 2
