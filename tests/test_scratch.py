"""scratch: the spiral, the initial weights, the training loop and the autograd references lesson 2 checks against."""

import numpy as np
import pytest

from course_utils import exercises, scratch


def _backward(params, x, activations=scratch.SPIRAL_ACTIVATIONS):
    """A generic hand-written backward pass (lesson 2 writes the 4-layer one inline), to test the references."""
    grads_of = {"relu": lambda a, h: (a > 0).astype(float), "sigmoid": lambda a, h: h * (1 - h),
                "identity": lambda a, h: np.ones_like(a)}
    apply = {"relu": scratch.relu, "sigmoid": scratch.sigmoid, "identity": lambda a: a}
    cache, h = [], x
    for (W, b), name in zip(params, activations):
        a = h @ W + b
        h = apply[name](a)
        cache.append((a, h))
    grad_h, grads = 2 * (h - x) / x.size, []
    for layer in reversed(range(len(params))):
        a, h_out = cache[layer]
        delta = grad_h * grads_of[activations[layer]](a, h_out)
        h_in = cache[layer - 1][1] if layer else x
        grads.insert(0, (h_in.T @ delta, delta.sum(axis=0)))
        grad_h = delta @ params[layer][0].T
    return float(np.mean((h - x) ** 2)), grads


@pytest.mark.parametrize("sizes, activations", [
    ((2, 64, 1, 64, 2), scratch.SPIRAL_ACTIVATIONS),
    ((3, 5, 2, 5, 3), ("relu", "sigmoid", "relu", "identity")),
    ((2, 8, 8, 1, 8, 8, 2), ("relu", "relu", "sigmoid", "relu", "relu", "identity")),
])
def test_autograd_reference_matches_the_chain_rule(sizes, activations):
    rng = np.random.default_rng(1)
    params = scratch.init_params(sizes, seed=3)
    x = rng.standard_normal((17, sizes[0]))
    loss, grads = _backward(params, x, activations)
    auto_loss, auto_grads = scratch.autograd_gradients(params, x, activations)
    assert loss == pytest.approx(auto_loss, rel=1e-12)
    for mine, theirs in zip(grads, auto_grads):
        for a, b in zip(mine, theirs):
            np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)


def test_init_params_has_he_scale_and_zero_biases():
    params = scratch.init_params((100, 400, 3), seed=0)
    assert [(W.shape, b.shape) for W, b in params] == [((100, 400), (400,)), ((400, 3), (3,))]
    assert params[0][0].std() == pytest.approx(np.sqrt(2 / 100), rel=0.05)
    assert not any(b.any() for _, b in params)


def test_sigmoid_is_stable_for_large_inputs():
    values = scratch.sigmoid(np.array([-1000.0, 0.0, 1000.0]))
    np.testing.assert_allclose(values, [0.0, 0.5, 1.0])


def test_fit_with_a_correct_backward_reduces_the_loss_and_orders_the_spiral():
    points, position = scratch.make_spiral(400, seed=0)
    params = scratch.init_params(seed=0)
    losses = scratch.fit(params, _backward, points, epochs=300, lr=0.1)
    assert losses[-1] < 0.3 * losses[0]
    h = points
    for (W, b), name in list(zip(params, scratch.SPIRAL_ACTIVATIONS))[:2]:
        h = scratch.relu(h @ W + b) if name == "relu" else scratch.sigmoid(h @ W + b)
    ranks = [np.argsort(np.argsort(v)) for v in (h.ravel(), position)]
    assert abs(np.corrcoef(*ranks)[0, 1]) > 0.9


def test_fit_updates_the_callers_arrays_in_place():
    points, _ = scratch.make_spiral(100)
    params = scratch.init_params(seed=0)
    first_W = params[0][0]
    before = _backward(params, points)[0]
    scratch.fit(params, _backward, points, epochs=1, lr=0.01)
    assert params[0][0] is first_W
    assert _backward(params, points)[0] < before


def test_layer_backward_reference_and_joined_checker():
    def tanh_backward(h_in, W, b, grad_out):
        delta = grad_out * (1 - np.tanh(h_in @ W + b) ** 2)
        return h_in.T @ delta, delta.sum(axis=0), delta @ W.T

    cases = scratch.layer_cases(seed=2)
    assert len(cases) == 3 and len({c[0].shape for c in cases}) == 3
    assert exercises.check_function(scratch.joined(tanh_backward), scratch.layer_backward_autograd, cases, name="t")
    def wrong(h_in, W, b, g):  # forgets tanh'
        return h_in.T @ g, g.sum(axis=0), g @ W.T

    assert not exercises.check_function(scratch.joined(wrong), scratch.layer_backward_autograd, cases, name="t")


def test_unfinished_layer_exercise_reads_as_not_done(capsys):
    def stub(h_in, W, b, g):
        return None

    assert not exercises.check_function(scratch.joined(stub), scratch.layer_backward_autograd,
                                        scratch.layer_cases(), name="layer")
    assert "not done yet" in capsys.readouterr().out


def test_bad_inputs():
    with pytest.raises(ValueError, match="at least an input and an output"):
        scratch.init_params((2,))
    with pytest.raises(ValueError, match=r"\(N, 2\)"):
        scratch.fit(scratch.init_params(), _backward, np.zeros((5, 3)), epochs=1)
    with pytest.raises(ValueError, match="lr"):
        scratch.fit(scratch.init_params(), _backward, np.zeros((5, 2)), epochs=1, lr=0)
    with pytest.raises(ValueError, match="n must be"):
        scratch.make_spiral(1)
    with pytest.raises(ValueError, match="one per layer"):
        scratch.autograd_gradients(scratch.init_params(), np.zeros((3, 2)), ("relu",))
    with pytest.raises(ValueError, match="activation must be one of"):
        scratch.layer_backward_autograd(*scratch.layer_cases(1)[0], activation="swish")
    with pytest.raises(ValueError, match="three gradients"):
        scratch.joined(lambda *a: (1, 2))(*scratch.layer_cases(1)[0])
