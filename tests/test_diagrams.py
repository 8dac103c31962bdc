"""The architecture diagrams draw their labelled parts, stay readable at the notebook's width, refuse bad sizes."""

import matplotlib.pyplot as plt
import pytest

from course_utils import diagrams


def texts(fig) -> list[str]:
    """Every non-empty text drawn on the figure."""
    return [t.get_text() for t in fig.findobj(plt.Text) if t.get_text().strip()]


def smallest_font(fig) -> float:
    """The smallest font size (points) of the figure's texts."""
    return min(t.get_fontsize() for t in fig.findobj(plt.Text) if t.get_text().strip())


def test_autoencoder_diagram_names_encoder_code_decoder_and_every_size():
    fig = diagrams.autoencoder_diagram((784, 512, 128, 2, 128, 512, 784))
    drawn = texts(fig)
    assert {"encoder", "decoder", "784", "512", "128", "2", "input x", "reconstruction x̂"} <= set(drawn)
    assert any("code" in t and "bottleneck" in t for t in drawn)
    assert drawn.count("784") == 2 and drawn.count("512") == 2
    plt.close(fig)


def test_autoencoder_diagram_uses_given_labels_and_marks_a_wide_code_overcomplete():
    labels = ("1×28×28", "32×14×14", "64×7×7", "32×14×14", "1×28×28")
    fig = diagrams.autoencoder_diagram((784, 6272, 3136, 6272, 784), labels=labels, code_index=2)
    drawn = texts(fig)
    assert "64×7×7" in drawn and "784" not in drawn
    assert any("overcomplete" in t for t in drawn)
    plt.close(fig)


def test_vae_diagram_shows_the_reparameterization():
    fig = diagrams.vae_diagram(input_size=784, hidden_sizes=(512, 128), latent_dim=2)
    drawn = " | ".join(texts(fig))
    for part in ("encoder", "decoder", "mean μ", "log σ²", "z = μ + σ·ε", "ε ~ N(0, I)", "reparameterization",
                 "784", "512", "128", "(2)"):
        assert part in drawn, part
    plt.close(fig)


@pytest.mark.parametrize("draw", [diagrams.autoencoder_diagram, diagrams.vae_diagram])
def test_diagrams_fit_the_notebook_and_read_at_9_points(draw):
    fig = draw()
    assert fig.get_size_inches()[0] <= 10.0
    assert smallest_font(fig) >= 9.0
    plt.close(fig)


def test_a_long_network_stays_10_inches_wide():
    fig = diagrams.autoencoder_diagram((784, 512, 256, 128, 64, 32, 16, 32, 64, 128, 256, 512, 784))
    assert fig.get_size_inches()[0] <= 10.0
    plt.close(fig)


@pytest.mark.parametrize("kwargs, message", [
    ({"layer_sizes": (784, 784)}, "at least 3 layer sizes"),
    ({"layer_sizes": "784,2,784"}, "sequence of layer sizes"),
    ({"layer_sizes": (784, 0, 784)}, r"layer_sizes\[1\] must be a positive integer"),
    ({"layer_sizes": (784, 2.5, 784)}, r"layer_sizes\[1\] must be a positive integer"),
    ({"layer_sizes": (784, 2, 784), "labels": ("a", "b")}, "one text per layer"),
    ({"layer_sizes": (784, 2, 784), "code_index": 2}, "between the input"),
    ({"layer_sizes": (784, 2, 784), "code_index": 0}, "code_index must be a positive integer"),
])
def test_autoencoder_diagram_refuses_what_it_cannot_draw(kwargs, message):
    with pytest.raises(ValueError, match=message):
        diagrams.autoencoder_diagram(**kwargs)


@pytest.mark.parametrize("kwargs, message", [
    ({"latent_dim": 0}, "latent_dim must be a positive integer"),
    ({"input_size": -784}, "input_size must be a positive integer"),
    ({"hidden_sizes": (512, None)}, r"hidden_sizes\[1\]"),
    ({"hidden_sizes": 512}, "sequence of layer sizes"),
])
def test_vae_diagram_refuses_what_it_cannot_draw(kwargs, message):
    with pytest.raises(ValueError, match=message):
        diagrams.vae_diagram(**kwargs)
