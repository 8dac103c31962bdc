"""scratch: the NumPy autoencoder's hand-written gradients match autograd, and it learns."""

import numpy as np
import pytest

from course_utils import scratch


@pytest.mark.parametrize("sizes", [(2, 64, 1, 64, 2), (3, 5, 2, 5, 3), (2, 8, 8, 1, 8, 8, 2)])
def test_gradients_match_autograd(sizes):
    rng = np.random.default_rng(1)
    net = scratch.NumpyAutoencoder(sizes, seed=3)
    x = rng.standard_normal((17, sizes[0]))
    loss, grads_W, grads_b = net.gradients(x)
    auto_loss, auto_W, auto_b = scratch.autograd_gradients(net, x)
    assert loss == pytest.approx(auto_loss, rel=1e-12)
    for mine, theirs in zip(grads_W + grads_b, auto_W + auto_b):
        np.testing.assert_allclose(mine, theirs, rtol=1e-9, atol=1e-12)


def test_sigmoid_is_stable_for_large_inputs():
    values = scratch.sigmoid(np.array([-1000.0, 0.0, 1000.0]))
    np.testing.assert_allclose(values, [0.0, 0.5, 1.0])


def test_training_reduces_the_loss_and_orders_the_spiral():
    points, position = scratch.make_spiral(400, seed=0)
    net = scratch.NumpyAutoencoder(seed=0)
    losses = net.fit(points, epochs=300, lr=0.1)
    assert losses[-1] < 0.3 * losses[0]
    code = net.encode(points).ravel()
    assert abs(np.corrcoef(np.argsort(np.argsort(code)), np.argsort(np.argsort(position)))[0, 1]) > 0.9


def test_step_moves_against_the_gradient():
    points, _ = scratch.make_spiral(100)
    net = scratch.NumpyAutoencoder(seed=0)
    before = net.loss(points)
    net.step(points, lr=0.01)
    assert net.loss(points) < before


def test_bad_inputs():
    with pytest.raises(ValueError, match="symmetric"):
        scratch.NumpyAutoencoder((2, 4, 3))
    with pytest.raises(ValueError, match=r"\(N, 2\)"):
        scratch.NumpyAutoencoder().forward(np.zeros((5, 3)))
    with pytest.raises(ValueError, match="lr"):
        scratch.NumpyAutoencoder().fit(np.zeros((5, 2)), epochs=1, lr=0)
    with pytest.raises(ValueError, match="n must be"):
        scratch.make_spiral(1)
