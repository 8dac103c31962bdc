"""train: the loss falls, the history is recorded, bad arguments are refused."""

import pytest
import torch

from course_utils import checkpoints, losses, models, train


def test_loss_falls_over_a_few_epochs(images):
    torch.manual_seed(0)
    model = models.ConvAutoencoder(8)
    before = train.evaluate(model, images)["total"]
    history = train.fit(model, images, images[:64], epochs=3, batch_size=32, progress=False)
    assert history.epochs == 3
    assert history.train["total"][-1] < history.train["total"][0]
    assert history.last() < before


def test_vae_history_keeps_every_part(images):
    torch.manual_seed(0)
    history = train.fit(models.ConvVAE(2), images, images[:32], epochs=2, batch_size=64,
                        objective=losses.vae_objective(1.0), progress=False)
    assert set(history.train) == set(history.val) == {"recon", "kl", "total"}
    assert len(history.val["kl"]) == 2


def test_history_round_trips_through_a_dict():
    history = train.History(train={"total": [2.0, 1.0]}, val={"total": [2.5, 1.5]}, seconds=[0.1, 0.1])
    assert train.History.from_dict(history.to_dict()) == history
    with pytest.raises(KeyError, match="recorded parts"):
        history.last("kl")


def test_helpers_return_cpu_tensors_of_the_right_shape(images):
    model = models.MLPAutoencoder(2)
    assert train.encode_all(model, images).shape == (256, 2)
    assert train.reconstruct_all(model, images[:10]).shape == (10, 1, 28, 28)
    assert train.decode_all(model, torch.zeros(3, 2)).shape == (3, 1, 28, 28)


@pytest.mark.parametrize("kwargs, match", [
    ({"epochs": 0}, "epochs"),
    ({"epochs": 1, "lr": 0}, "lr"),
])
def test_bad_arguments_are_refused(images, kwargs, match):
    with pytest.raises(ValueError, match=match):
        train.fit(models.MLPAutoencoder(2), images, **kwargs)


def test_wrong_data_type_says_what_to_pass():
    with pytest.raises(TypeError, match="splits.train.images"):
        train.fit(models.MLPAutoencoder(2), [[0.0]], epochs=1)
    with pytest.raises(ValueError, match="float pixels"):
        train.fit(models.MLPAutoencoder(2), torch.zeros(4, 1, 28, 28, dtype=torch.uint8), epochs=1)


def test_epochs_for_gives_small_datasets_enough_weight_updates():
    assert train.epochs_for(60_000, 5, min_steps=400) == 5  # 2,345 steps already
    assert train.epochs_for(4_000, 5, min_steps=400) == 13  # 32 steps per epoch -> 13 epochs
    assert train.epochs_for(3_000, 14, min_steps=400) == 17
    with pytest.raises(ValueError, match="min_steps must be a positive integer"):
        train.epochs_for(100, 1, min_steps=0)


# --- faults: a stop or a NaN mid-training ------------------------------------------------------------


class StopAt:
    """A plain autoencoder objective that raises ``error`` on its ``call``-th training call."""

    def __init__(self, call: int, error: BaseException | None = None, nan: bool = False):
        self.calls, self.stop_at, self.error, self.nan = 0, call, error, nan
        self.inner = losses.autoencoder_objective()

    def __call__(self, model, batch):
        if torch.is_grad_enabled():
            self.calls += 1
        parts = self.inner(model, batch)
        if self.calls >= self.stop_at and torch.is_grad_enabled():
            if self.error is not None:
                raise self.error
            if self.nan:
                parts = {"total": parts["total"] * float("nan")}
        return parts


def test_a_stop_keeps_the_finished_epochs_and_leaves_the_model_ready(images, capsys):
    model = models.ConvAutoencoder(4)
    # 256 images in batches of 64: 4 steps per epoch, so call 7 is in the second epoch.
    history = train.fit(model, images, images[:32], epochs=3, batch_size=64, progress=False,
                        objective=StopAt(7, KeyboardInterrupt()))
    assert history.interrupted and history.epochs == 1
    assert len(history.train["total"]) == len(history.val["total"]) == 1
    assert not model.training
    assert "Stopped during epoch 2 of 3" in capsys.readouterr().out


def test_a_loss_that_turns_nan_stops_training_naming_the_epoch_and_the_causes(images):
    model = models.ConvAutoencoder(4)
    with pytest.raises(FloatingPointError, match=r"became nan in epoch 2.*learning rate too high") as raised:
        train.fit(model, images, epochs=3, batch_size=64, progress=False, objective=StopAt(6, nan=True))
    assert raised.value.history.epochs == 1
    assert not model.training


def test_a_nan_during_load_or_train_leaves_no_checkpoint(images, tmp_path):
    with pytest.raises(FloatingPointError):
        checkpoints.load_or_train(
            "nan_model", lambda: models.ConvAutoencoder(4),
            lambda m: train.fit(m, images, epochs=2, batch_size=64, progress=False, objective=StopAt(2, nan=True)),
            {"seed": 0}, directory=tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_float64_images_train_like_float32_ones(images):
    results = []
    for dtype in (torch.float32, torch.float64):
        torch.manual_seed(0)
        model = models.MLPAutoencoder(2)
        results.append(train.fit(model, images.to(dtype), epochs=1, progress=False).train["total"][0])
    assert results[0] == pytest.approx(results[1], rel=1e-6)


def test_one_cycle_warms_up_to_lr_then_anneals_to_almost_zero():
    optimizer = train.make_adam(models.MLPAutoencoder(2), 1e-2)
    scheduler = train.learning_rate_schedule(optimizer, "one-cycle", 1e-2, total_steps=100)
    rates = []
    for _ in range(100):
        rates.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    assert rates[0] == pytest.approx(1e-2 / 25)
    assert max(rates) == pytest.approx(1e-2, rel=1e-3) and 25 <= rates.index(max(rates)) <= 35
    assert rates[-1] < 1e-4


def test_constant_schedule_trains_exactly_as_without_a_scheduler(images):
    losses_seen = []
    for schedule in ("constant", None):
        torch.manual_seed(0)
        model = models.MLPAutoencoder(2)
        if schedule is None:  # the plain loop, by hand
            optimizer = train.make_adam(model, 1e-3)
            for batch in torch.utils.data.DataLoader(images, batch_size=64, shuffle=False):
                optimizer.zero_grad()
                losses.autoencoder_objective()(model, batch)["total"].backward()
                optimizer.step()
        else:
            optimizer = train.make_adam(model, 1e-3)
            scheduler = train.learning_rate_schedule(optimizer, schedule, 1e-3, 4)
            for batch in torch.utils.data.DataLoader(images, batch_size=64, shuffle=False):
                optimizer.zero_grad()
                losses.autoencoder_objective()(model, batch)["total"].backward()
                optimizer.step()
                scheduler.step()
        losses_seen.append(train.evaluate(model, images)["total"])
    assert losses_seen[0] == losses_seen[1]


def test_start_at_mean_pixel_makes_the_untrained_model_draw_the_mean_image(images):
    mean = images.mean()
    conv = models.ConvVAE(4)
    train.start_at_mean_pixel(conv, images)
    assert torch.sigmoid(conv.decoder[-1][-1].bias).item() == pytest.approx(mean.item(), rel=1e-5)  # one number
    mlp = models.MLPAutoencoder(2)
    train.start_at_mean_pixel(mlp, images)
    last = [m for m in mlp.decoder.modules() if isinstance(m, torch.nn.Linear)][-1]
    expected = images.flatten(1).mean(0).clamp(1e-3, 1 - 1e-3)  # one number per pixel; never-lit pixels clamped
    assert torch.allclose(torch.sigmoid(last.bias), expected, atol=1e-6)
    torch.manual_seed(0)
    fresh, started = models.ConvAutoencoder(8), models.ConvAutoencoder(8)
    started.load_state_dict(fresh.state_dict())
    train.start_at_mean_pixel(started, images)
    assert train.evaluate(started, images)["total"] < train.evaluate(fresh, images)["total"]


def test_start_at_mean_pixel_refuses_what_it_cannot_start(images):
    with pytest.raises(TypeError, match="decoder"):
        train.start_at_mean_pixel(torch.nn.Linear(784, 784), images)
    odd = models.ConvAutoencoder(8)
    odd.decoder.append(torch.nn.Conv2d(1, 3, 1))  # three output channels: not an image of these datasets
    with pytest.raises(ValueError, match="neither one nor one per pixel"):
        train.start_at_mean_pixel(odd, images)


def test_fit_passes_its_betas_to_adam_and_refuses_bad_ones(images):
    torch.manual_seed(0)
    plain, short = models.MLPAutoencoder(2), models.MLPAutoencoder(2)
    short.load_state_dict(plain.state_dict())
    train.fit(plain, images, epochs=1, lr=1e-2, progress=False)
    train.fit(short, images, epochs=1, lr=1e-2, betas=(0.9, 0.99), progress=False)
    assert any(not torch.equal(p, q) for p, q in zip(plain.parameters(), short.parameters()))
    for bad in ((0.9, 1.0), (0.9,), "fast"):
        with pytest.raises(ValueError, match="betas"):
            train.fit(models.MLPAutoencoder(2), images, epochs=1, betas=bad, progress=False)
