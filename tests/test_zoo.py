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


def test_lesson_6_models_are_cached_by_their_settings(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_CHECKPOINT_DIR", str(tmp_path))
    splits = _splits()
    options = {"dataset": "mnist", "epochs": 1, "seed": 0, "batch_size": 32, "device": "cpu"}
    zoo.conditional_vae(splits.train, splits.val, latent_dim=2, **options)
    vq, _ = zoo.vq_vae(splits.train.images, splits.val.images, num_codes=8, restart_every=2, **options)
    zoo.grid_vae(splits.train.images, splits.val.images, latent_channels=2, beta=1e-3, **options)
    grids = vq.encode(splits.train.images).detach()
    prior, _ = zoo.grid_prior(grids, grids[:4], num_codes=8, epochs=1, seed=0)
    again, _ = zoo.grid_prior(grids, grids[:4], num_codes=8, epochs=1, seed=0)  # loaded, not trained
    assert all(torch.equal(p, q) for p, q in zip(prior.parameters(), again.parameters()))
    zoo.grid_prior(grids.flip(0), grids[:4], num_codes=8, epochs=1, seed=0)  # other grids: a file of their own
    names = sorted(p.name.split("-")[0] for p in tmp_path.glob("*.pt"))
    assert names == ["cvae_mnist_z2", "grid_prior_k8", "grid_prior_k8", "grid_vae_mnist_c2", "vqvae_mnist_k8"]


def test_the_conv_recipe_gets_a_cache_entry_of_its_own_and_starts_at_the_mean(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_CHECKPOINT_DIR", str(tmp_path))
    splits = _splits()
    options = {"dataset": "mnist", "latent_dim": 2, "epochs": 1, "seed": 0, "batch_size": 32, "device": "cpu"}
    calls = []
    monkeypatch.setattr(zoo, "start_at_mean_pixel", lambda model, images: calls.append(len(images)))
    zoo.conv_model("vae", splits.train, splits.val.images, **options)
    zoo.conv_model("vae", splits.train, splits.val.images, **options, **zoo.CONV_RECIPE)
    zoo.conv_model("vae", splits.train, splits.val.images, **options, **zoo.CONV_RECIPE)  # loaded, not trained
    assert calls == [len(splits.train)]
    assert len(list(tmp_path.glob("conv_vae_mnist_z2-*.pt"))) == 2


def test_the_mlp_recipe_gets_a_cache_entry_of_its_own_and_reaches_adam(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_CHECKPOINT_DIR", str(tmp_path))
    splits = _splits()
    starts, fits = [], []
    monkeypatch.setattr(zoo, "start_at_mean_pixel", lambda model, images: starts.append(len(images)))
    real_fit = zoo.fit
    monkeypatch.setattr(zoo, "fit", lambda *args, **kwargs: fits.append(kwargs["betas"]) or real_fit(*args, **kwargs))
    plain, _ = zoo.mlp_autoencoder(splits, 2, epochs=1, seed=0, device="cpu")
    options = {"epochs": 1, "seed": 0, "schedule": "one-cycle", "device": "cpu", **zoo.MLP_RECIPE}
    zoo.mlp_autoencoder(splits, 2, **options)
    zoo.mlp_autoencoder(splits, 2, **options)  # loaded, not trained
    again, _ = zoo.mlp_autoencoder(splits, 2, epochs=1, seed=0, device="cpu")  # the plain one is still there
    assert starts == [len(splits.train)] and fits == [(0.9, 0.999), zoo.MLP_RECIPE["betas"]]
    assert all(torch.equal(p, q) for p, q in zip(plain.parameters(), again.parameters()))
    assert len(list(tmp_path.glob("mlp_ae_mnist_z2-*.pt"))) == 2


def test_a_batch_size_of_its_own_reaches_fit_and_names_its_own_checkpoint(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_CHECKPOINT_DIR", str(tmp_path))
    splits = _splits()
    sizes = []
    real_fit = zoo.fit
    monkeypatch.setattr(zoo, "fit", lambda *a, **kwargs: sizes.append(kwargs["batch_size"]) or real_fit(*a, **kwargs))
    zoo.mlp_autoencoder(splits, 2, epochs=1, seed=0, device="cpu")
    zoo.mlp_autoencoder(splits, 2, epochs=1, seed=0, batch_size=64, device="cpu")  # lesson 1's fast mode
    zoo.mlp_autoencoder(splits, 2, epochs=1, seed=0, batch_size=64, device="cpu")  # loaded, not trained
    assert sizes == [128, 64]
    names = sorted(p.name for p in tmp_path.glob("mlp_ae_mnist_z2-*.pt"))
    assert len(names) == 2
    # the default keeps the name lessons 2-4 had before batch sizes were part of it
    plain = {"dataset": splits.name, "latent_dim": 2, "epochs": 1, "train_size": len(splits.train), "seed": 0,
             "lr": 1e-3, "schedule": "constant"}
    assert zoo.checkpoints.checkpoint_path("mlp_ae_mnist_z2", tmp_path, plain).name in names
