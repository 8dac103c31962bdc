"""What lesson 2's NumPy autoencoder needs but does not teach: data, initial weights, a training loop, autograd.

The lesson itself writes the forward and backward passes (section 2), so a student reads and
edits them there. This module supplies the rest: the spiral, He-initialised weights, mini-batch
gradient descent that takes the lesson's gradient function as an argument, and the same
gradients computed by PyTorch's autograd, which the lesson checks its own against.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import numpy as np

from course_utils.checks import positive_int

if TYPE_CHECKING:
    import torch

#: Layers as (weights (n_in, n_out), biases (n_out,)) pairs, input layer first.
Params = list[tuple[np.ndarray, np.ndarray]]
#: The lesson's backward pass: (params, x) -> (loss, [(dL/dW, dL/db) per layer]).
GradientFunction = Callable[[Params, np.ndarray], tuple[float, Params]]
#: The activations of the lesson's 2 -> 64 -> 1 -> 64 -> 2 autoencoder, layer by layer.
SPIRAL_ACTIVATIONS = ("relu", "sigmoid", "relu", "identity")


def sigmoid(a: np.ndarray) -> np.ndarray:
    """The logistic function 1 / (1 + e^-a), computed without overflow."""
    a = np.asarray(a, dtype=float)
    out = np.empty_like(a)
    positive = a >= 0
    out[positive] = 1.0 / (1.0 + np.exp(-a[positive]))
    exp_a = np.exp(a[~positive])
    out[~positive] = exp_a / (1.0 + exp_a)
    return out


def relu(a: np.ndarray) -> np.ndarray:
    """max(0, a), element-wise."""
    return np.maximum(a, 0.0)


def make_spiral(n: int = 1000, turns: float = 1.0, noise: float = 0.02, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Points on a noisy 2-D spiral, and each point's position t in [0, 1] along it."""
    n = positive_int("n", n, minimum=2)
    rng = np.random.default_rng(seed)
    t = np.sort(rng.uniform(0.0, 1.0, n))
    angle = 2 * np.pi * turns * t
    radius = 0.2 + 0.8 * t  # start off-centre so the spiral never crosses itself
    points = np.stack([radius * np.cos(angle), radius * np.sin(angle)], axis=1)
    return points + noise * rng.standard_normal(points.shape), t


def init_params(sizes: Sequence[int] = (2, 64, 1, 64, 2), seed: int = 0) -> Params:
    """He-initialised weights and zero biases for fully connected layers ``sizes[0] -> ... -> sizes[-1]``."""
    sizes = tuple(positive_int("each layer size", s) for s in sizes)
    if len(sizes) < 2:
        raise ValueError(f"sizes needs at least an input and an output size, like (2, 64, 1, 64, 2); got {sizes!r}.")
    rng = np.random.default_rng(seed)
    # He initialisation keeps ReLU activations from shrinking or blowing up layer by layer.
    return [(rng.standard_normal((n_in, n_out)) * np.sqrt(2.0 / n_in), np.zeros(n_out))
            for n_in, n_out in zip(sizes[:-1], sizes[1:])]


def fit(
    params: Params,
    gradients: GradientFunction,
    x: np.ndarray,
    epochs: int = 300,
    lr: float = 0.1,
    batch_size: int = 32,
    seed: int = 0,
) -> list[float]:
    """Mini-batch gradient descent, W <- W - lr * dL/dW, in place; returns the full-data loss after each epoch.

    ``gradients(params, batch)`` is the lesson's backward pass: it returns the loss and one
    (dL/dW, dL/db) pair per layer.
    """
    epochs, batch_size = positive_int("epochs", epochs), positive_int("batch_size", batch_size)
    if not lr > 0:
        raise ValueError(f"lr must be positive, got {lr!r}.")
    x = np.asarray(x, dtype=float)
    if x.ndim != 2 or x.shape[1] != params[0][0].shape[0]:
        raise ValueError(f"Expected inputs of shape (N, {params[0][0].shape[0]}), got {x.shape}.")
    rng = np.random.default_rng(seed)
    losses = []
    for _ in range(epochs):
        order = rng.permutation(len(x))
        for start in range(0, len(x), batch_size):
            _, grads = gradients(params, x[order[start : start + batch_size]])
            for (W, b), (dW, db) in zip(params, grads):
                W -= lr * dW  # in place: the caller's arrays are the model
                b -= lr * db
        losses.append(float(gradients(params, x)[0]))
    return losses


def _torch_activation(a: torch.Tensor, name: str) -> torch.Tensor:
    """PyTorch's version of the activation called ``name``."""
    import torch

    functions = {"relu": torch.relu, "sigmoid": torch.sigmoid, "tanh": torch.tanh, "identity": lambda t: t}
    if name not in functions:
        raise ValueError(f"activation must be one of {sorted(functions)}, got {name!r}.")
    return functions[name](a)


def autograd_gradients(
    params: Params, x: np.ndarray, activations: Sequence[str] = SPIRAL_ACTIVATIONS
) -> tuple[float, Params]:
    """The MSE loss and every layer's (dL/dW, dL/db), computed by PyTorch's autograd: the reference."""
    import torch

    if len(activations) != len(params):
        raise ValueError(f"{len(params)} layers but {len(activations)} activations: give one per layer.")
    leaves = [(torch.tensor(W, dtype=torch.float64, requires_grad=True),
               torch.tensor(b, dtype=torch.float64, requires_grad=True)) for W, b in params]
    inputs = torch.tensor(np.asarray(x, dtype=float))
    h = inputs
    for (W, b), name in zip(leaves, activations):
        h = _torch_activation(h @ W + b, name)
    loss = ((h - inputs) ** 2).mean()
    loss.backward()
    return float(loss.detach()), [(W.grad.numpy(), b.grad.numpy()) for W, b in leaves]


def layer_backward_autograd(
    h_in: np.ndarray, W: np.ndarray, b: np.ndarray, grad_out: np.ndarray, activation: str = "tanh"
) -> np.ndarray:
    """Autograd's (dL/dW, dL/db, dL/dh_in) for one layer h = activation(h_in @ W + b), flattened into one vector.

    ``grad_out`` is dL/dh, the gradient arriving from the layers above. The exercise's checker
    compares one array, so the three gradients come back joined (see ``joined``).
    """
    import torch

    h_in_t, W_t, b_t = (torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in (h_in, W, b))
    h = _torch_activation(h_in_t @ W_t + b_t, activation)
    h.backward(torch.tensor(grad_out, dtype=torch.float64))  # pushes grad_out back through the layer
    return np.concatenate([W_t.grad.numpy().ravel(), b_t.grad.numpy().ravel(), h_in_t.grad.numpy().ravel()])


def joined(function: Callable[..., Sequence[np.ndarray] | None]) -> Callable[..., np.ndarray | None]:
    """``function`` made to return its gradients joined into one flat vector (None stays None: not done yet)."""

    def run(*args: np.ndarray) -> np.ndarray | None:
        grads = function(*args)
        if grads is None:
            return None
        if len(grads) != 3:
            raise ValueError(f"return three gradients, (dW, db, dh_in); got {len(grads)} values.")
        return np.concatenate([np.ravel(g) for g in grads])

    return run


def layer_cases(n_cases: int = 3, seed: int = 0) -> list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:
    """Random (h_in, W, b, grad_out) test cases for one layer's backward pass, of several shapes."""
    rng = np.random.default_rng(seed)
    cases = []
    for number in range(n_cases):
        n, n_in, n_out = 5 + number, 3 + number, 4 - number % 2
        cases.append((rng.standard_normal((n, n_in)), rng.standard_normal((n_in, n_out)),
                      rng.standard_normal(n_out), rng.standard_normal((n, n_out))))
    return cases
