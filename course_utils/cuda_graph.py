"""On a GPU only: one training step recorded once as a CUDA graph, then replayed for every full batch.

A lesson's model is small, so on a GPU each step is dominated by Python and by launching some
sixty tiny kernels one by one. A CUDA graph records the whole step (zero_grad, loss, backward,
Adam) once and replays it with one launch per batch. The arithmetic is the same as
``train.fit``'s plain loop; ``tests/test_cuda_graph.py`` compares the two.
"""

from __future__ import annotations

import warnings

import torch
from torch import nn

from course_utils.losses import Objective


class GraphedStep:
    """``step(batch) -> loss parts``: eager for warm-up and odd-sized batches, a graph replay otherwise.

    The returned parts of a replayed step are the graph's own output tensors: read them (or copy
    them) before the next call, which overwrites them.
    """

    #: Eager steps before capture: autograd and cuBLAS set themselves up on the first calls.
    WARMUP_STEPS = 3

    def __init__(self, model: nn.Module, objective: Objective, optimizer: torch.optim.Optimizer,
                 batch_size: int) -> None:
        self.model, self.objective, self.optimizer, self.batch_size = model, objective, optimizer, batch_size
        self.graph: torch.cuda.CUDAGraph | None = None
        self.static_batch: torch.Tensor | None = None
        self.static_parts: dict[str, torch.Tensor] = {}
        self.eager_steps = 0
        self.enabled = True  # False once a capture has failed: stay eager

    def _eager(self, batch: torch.Tensor) -> dict[str, torch.Tensor]:
        # Once a graph holds the gradient buffers, zero them in place rather than dropping them.
        self.optimizer.zero_grad(set_to_none=self.graph is None)
        parts = self.objective(self.model, batch)
        parts["total"].backward()
        self.optimizer.step()
        self.eager_steps += 1
        return parts

    def _capture(self, batch: torch.Tensor) -> dict[str, torch.Tensor]:
        """Record one whole step on a copy of ``batch`` (recording runs nothing), then replay it."""
        self.static_batch = batch.clone()
        torch.cuda.synchronize()
        graph = torch.cuda.CUDAGraph()
        self.optimizer.zero_grad(set_to_none=True)  # backward then allocates grads from the graph's pool
        with torch.cuda.graph(graph):
            parts = self.objective(self.model, self.static_batch)
            parts["total"].backward()
            self.optimizer.step()
        self.graph, self.static_parts = graph, parts
        graph.replay()
        return parts

    def __call__(self, batch: torch.Tensor) -> dict[str, torch.Tensor]:
        """Train on one batch and return its loss parts."""
        full = len(batch) == self.batch_size
        if self.graph is not None and full:
            self.static_batch.copy_(batch)
            self.graph.replay()
            return self.static_parts
        if self.enabled and full and self.eager_steps >= self.WARMUP_STEPS:
            try:
                return self._capture(batch)
            except RuntimeError as error:  # an objective that cannot be captured: stay eager
                warnings.warn(f"Could not record this training step as a CUDA graph ({error}); training goes on "
                              "without it, only slower. Pass cuda_graph=False to fit() to skip the attempt.",
                              stacklevel=3)
                self.enabled, self.graph = False, None
        return self._eager(batch)
