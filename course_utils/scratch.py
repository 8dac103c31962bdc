"""An autoencoder written by hand in NumPy: forward pass, backpropagation and gradient descent.

Lesson 2 uses it to squeeze a 2-D spiral through a 1-D code. Every gradient is written out, and
``tests/test_scratch.py`` checks each one against PyTorch's autograd.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from course_utils.checks import positive_int


def sigmoid(a: np.ndarray) -> np.ndarray:
    """The logistic function 1 / (1 + e^-a), computed without overflow."""
    out = np.empty_like(a, dtype=float)
    positive = a >= 0
    out[positive] = 1.0 / (1.0 + np.exp(-a[positive]))
    exp_a = np.exp(a[~positive])
    out[~positive] = exp_a / (1.0 + exp_a)
    return out


def relu(a: np.ndarray) -> np.ndarray:
    """max(0, a), element-wise."""
    return np.maximum(a, 0.0)


def _activate(a: np.ndarray, name: str) -> np.ndarray:
    """Apply the activation called ``name``."""
    if name == "relu":
        return relu(a)
    if name == "sigmoid":
        return sigmoid(a)
    return a


def _activation_grad(a: np.ndarray, h: np.ndarray, name: str) -> np.ndarray:
    """dh/da of the activation, given its input ``a`` and output ``h``."""
    if name == "relu":
        return (a > 0).astype(float)
    if name == "sigmoid":
        return h * (1.0 - h)  # sigma'(a) = sigma(a) (1 - sigma(a))
    return np.ones_like(a)


def make_spiral(n: int = 1000, turns: float = 1.0, noise: float = 0.02, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Points on a noisy 2-D spiral, and each point's position t in [0, 1] along it."""
    n = positive_int("n", n, minimum=2)
    rng = np.random.default_rng(seed)
    t = np.sort(rng.uniform(0.0, 1.0, n))
    angle = 2 * np.pi * turns * t
    radius = 0.2 + 0.8 * t  # start off-centre so the spiral never crosses itself
    points = np.stack([radius * np.cos(angle), radius * np.sin(angle)], axis=1)
    return points + noise * rng.standard_normal(points.shape), t


@dataclass
class NumpyAutoencoder:
    """A fully connected autoencoder in NumPy; ``sizes`` runs input -> ... -> code -> ... -> output.

    Hidden layers use ReLU, the code layer a sigmoid (so codes lie in (0, 1)), and the output
    layer is linear, to match real-valued inputs with a mean-squared-error loss.
    """

    sizes: tuple[int, ...] = (2, 64, 1, 64, 2)
    seed: int = 0
    weights: list[np.ndarray] = field(init=False)
    biases: list[np.ndarray] = field(init=False)
    activations: list[str] = field(init=False)

    def __post_init__(self) -> None:
        if len(self.sizes) < 3 or len(self.sizes) % 2 == 0 or self.sizes[0] != self.sizes[-1]:
            raise ValueError(
                f"sizes must be symmetric-length like (2, 32, 1, 32, 2), with the code in the "
                f"middle and as many outputs as inputs; got {self.sizes!r}."
            )
        rng = np.random.default_rng(self.seed)
        # He initialisation keeps ReLU activations from shrinking or blowing up layer by layer.
        self.weights = [
            rng.standard_normal((n_in, n_out)) * np.sqrt(2.0 / n_in)
            for n_in, n_out in zip(self.sizes[:-1], self.sizes[1:])
        ]
        self.biases = [np.zeros(n_out) for n_out in self.sizes[1:]]
        code_layer = len(self.sizes) // 2 - 1
        self.activations = [
            "sigmoid" if i == code_layer else "identity" if i == len(self.weights) - 1 else "relu"
            for i in range(len(self.weights))
        ]

    @property
    def code_layer(self) -> int:
        """Index of the layer whose output is the code."""
        return len(self.sizes) // 2 - 1

    def forward(self, x: np.ndarray) -> tuple[np.ndarray, list[tuple[np.ndarray, np.ndarray]]]:
        """Return the reconstruction and, per layer, (pre-activation a, output h) for backprop."""
        x = np.asarray(x, dtype=float)
        if x.ndim != 2 or x.shape[1] != self.sizes[0]:
            raise ValueError(f"Expected inputs of shape (N, {self.sizes[0]}), got {x.shape}.")
        cache, h = [], x
        for W, b, act in zip(self.weights, self.biases, self.activations):
            a = h @ W + b
            h = _activate(a, act)
            cache.append((a, h))
        return h, cache

    def encode(self, x: np.ndarray) -> np.ndarray:
        """The code of each input: the output of the middle layer."""
        return self.forward(x)[1][self.code_layer][1]

    def decode(self, z: np.ndarray) -> np.ndarray:
        """Run codes through the decoder half."""
        h = np.asarray(z, dtype=float).reshape(-1, self.sizes[len(self.sizes) // 2])
        for W, b, act in list(zip(self.weights, self.biases, self.activations))[self.code_layer + 1 :]:
            h = _activate(h @ W + b, act)
        return h

    def loss(self, x: np.ndarray) -> float:
        """Mean squared reconstruction error over every coordinate."""
        reconstruction, _ = self.forward(x)
        return float(np.mean((reconstruction - x) ** 2))

    def gradients(self, x: np.ndarray) -> tuple[float, list[np.ndarray], list[np.ndarray]]:
        """Backpropagation: the loss and dL/dW, dL/db for every layer, by the chain rule."""
        x = np.asarray(x, dtype=float)
        reconstruction, cache = self.forward(x)
        loss = float(np.mean((reconstruction - x) ** 2))
        grad_h = 2.0 * (reconstruction - x) / x.size  # dL/dx' for L = mean((x' - x)^2)
        grads_W: list[np.ndarray] = [np.empty(0)] * len(self.weights)
        grads_b: list[np.ndarray] = [np.empty(0)] * len(self.weights)
        for layer in reversed(range(len(self.weights))):
            a, h = cache[layer]
            delta = grad_h * _activation_grad(a, h, self.activations[layer])  # dL/da
            h_in = cache[layer - 1][1] if layer > 0 else x
            grads_W[layer] = h_in.T @ delta
            grads_b[layer] = delta.sum(axis=0)
            grad_h = delta @ self.weights[layer].T  # dL/dh of the layer below
        return loss, grads_W, grads_b

    def step(self, x: np.ndarray, lr: float) -> float:
        """One gradient-descent step, W <- W - lr * dL/dW; returns the loss before the step."""
        loss, grads_W, grads_b = self.gradients(x)
        for W, b, gW, gb in zip(self.weights, self.biases, grads_W, grads_b):
            W -= lr * gW
            b -= lr * gb
        return loss

    def fit(self, x: np.ndarray, epochs: int = 300, lr: float = 0.1, batch_size: int = 32) -> list[float]:
        """Mini-batch gradient descent; returns the full-data loss after every epoch."""
        if not lr > 0:
            raise ValueError(f"lr must be positive, got {lr!r}.")
        rng = np.random.default_rng(self.seed)
        x = np.asarray(x, dtype=float)
        losses = []
        for _ in range(epochs):
            order = rng.permutation(len(x))
            for start in range(0, len(x), batch_size):
                self.step(x[order[start : start + batch_size]], lr)
            losses.append(self.loss(x))
        return losses


def autograd_gradients(model: NumpyAutoencoder, x: np.ndarray) -> tuple[float, list[np.ndarray], list[np.ndarray]]:
    """The same loss and gradients as ``model.gradients``, computed by PyTorch's autograd instead."""
    import torch

    weights = [torch.tensor(W, dtype=torch.float64, requires_grad=True) for W in model.weights]
    biases = [torch.tensor(b, dtype=torch.float64, requires_grad=True) for b in model.biases]
    inputs = torch.tensor(np.asarray(x, dtype=float))
    h = inputs
    for W, b, act in zip(weights, biases, model.activations):
        a = h @ W + b
        h = torch.relu(a) if act == "relu" else torch.sigmoid(a) if act == "sigmoid" else a
    loss = ((h - inputs) ** 2).mean()
    loss.backward()
    return float(loss.detach()), [W.grad.numpy() for W in weights], [b.grad.numpy() for b in biases]
