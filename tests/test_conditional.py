"""conditional: labels that travel with images, and a VAE told the class."""

import pytest
import torch

from course_utils import conditional, train


def test_labels_ride_along_and_come_back():
    images = torch.rand(5, 1, 28, 28)
    labels = torch.tensor([0, 3, 9, 3, 1])
    packed = conditional.attach_labels(images, labels)
    assert packed.shape == (5, 2, 28, 28) and 0 <= float(packed.min()) and float(packed.max()) <= 1
    back, got = conditional.split_labels(packed)
    assert torch.equal(back, images) and torch.equal(got, labels)


def test_the_decoder_follows_the_class():
    torch.manual_seed(0)
    model = conditional.ConditionalVAE(latent_dim=3)
    z = torch.zeros(2, 3)
    a, b = conditional.generate(model, [1, 7], z), conditional.generate(model, [1, 1], z)
    assert a.shape == (2, 1, 28, 28)
    assert torch.equal(a[0], b[0]) and not torch.equal(a[1], b[1])
    assert conditional.class_grid(model, torch.randn(2, 3), classes=[0, 4, 5]).shape == (6, 1, 28, 28)


def test_class_grid_rows_share_a_code_and_columns_a_class():
    torch.manual_seed(0)
    model = conditional.ConditionalVAE(latent_dim=2)
    z = torch.randn(2, 2)
    grid = conditional.class_grid(model, z, classes=[0, 4, 5])
    assert torch.allclose(grid[4], conditional.generate(model, [4], z[1:2])[0])  # row 2, column 2


def test_training_through_fit_lowers_the_loss(images):
    torch.manual_seed(0)
    labels = torch.arange(len(images)) % 10
    packed = conditional.attach_labels(images, labels)
    model = conditional.ConditionalVAE(latent_dim=2)
    history = train.fit(model, packed, packed[:64], epochs=3, objective=conditional.conditional_vae_objective(1.0),
                        lr=1e-2, batch_size=32, progress=False)
    assert history.val["total"][-1] < history.val["total"][0]
    assert set(history.val) == {"recon", "kl", "total"}


@pytest.mark.parametrize("call, message", [
    (lambda: conditional.attach_labels(torch.rand(3, 1, 28, 28), [0, 1]), "3 whole class numbers"),
    (lambda: conditional.attach_labels(torch.rand(2, 1, 28, 28), [0, 10]), "between 0 and 9"),
    (lambda: conditional.attach_labels(torch.rand(2, 1, 28, 28), torch.tensor([0.0, 1.0])), "whole class numbers"),
    (lambda: conditional.split_labels(torch.rand(2, 1, 28, 28)), "attach_labels"),
    (lambda: conditional.ConditionalVAE(2).decode(torch.zeros(1, 3), [0]), r"codes of shape \(N, 2\)"),
    (lambda: conditional.class_grid(conditional.ConditionalVAE(2), torch.zeros(2), [0]), "Pass codes of shape"),
])
def test_bad_inputs_name_the_problem(call, message):
    with pytest.raises(ValueError, match=message):
        call()
