"""The CUDA-graph replay trains like the plain loop (on a GPU only)."""

import pytest
import torch

from course_utils import cuda_graph, losses, models, train


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU (run with CUDA_VISIBLE_DEVICES set)")
@pytest.mark.parametrize("kind", ["conv_ae", "conv_vae", "denoising"])
def test_cuda_graph_training_learns_like_eager_training(kind):
    """Replaying a captured step must train the model as the eager loop does (same losses, within 2%)."""
    images = torch.rand(1000, 1, 28, 28, generator=torch.Generator().manual_seed(0))
    build = {"conv_ae": lambda: models.ConvAutoencoder(8), "conv_vae": lambda: models.ConvVAE(8),
             "denoising": lambda: models.ConvAutoencoder(8)}[kind]
    objective = {"conv_ae": None, "conv_vae": losses.vae_objective(1.0),
                 "denoising": losses.denoising_objective(0.3)}[kind]
    results = {}
    for graphed in (False, True):
        torch.manual_seed(0)
        model = build().cuda()
        history = train.fit(model, images, images[:200], epochs=3, objective=objective, batch_size=64,
                            progress=False, cuda_graph=graphed)
        results[graphed] = history
    eager, graphed = results[False], results[True]
    for part in eager.train:
        assert graphed.train[part][-1] == pytest.approx(eager.train[part][-1], rel=0.02), part
    assert graphed.val["total"][-1] < graphed.val["total"][0], "the graphed loop should learn"


def test_warm_up_steps_are_the_plain_loops_steps_exactly():
    """Before it records anything (and on a CPU, where it never does) the step is zero_grad, loss, backward, Adam."""
    batches = torch.rand(3, 16, 1, 28, 28, generator=torch.Generator().manual_seed(0))
    objective = losses.autoencoder_objective()
    trained = []
    for use_graph_step in (False, True):
        torch.manual_seed(0)
        model = models.ConvAutoencoder(4)
        optimizer = train.make_adam(model, 1e-3)
        step = cuda_graph.GraphedStep(model, objective, optimizer, batch_size=16)
        for batch in batches[: step.WARMUP_STEPS]:
            if use_graph_step:
                step(batch)
            else:
                optimizer.zero_grad()
                objective(model, batch)["total"].backward()
                optimizer.step()
        assert step.graph is None
        trained.append(torch.cat([p.detach().flatten() for p in model.parameters()]))
    assert torch.equal(trained[0], trained[1])
