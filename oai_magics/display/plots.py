"""Plots: the 2-D map of a set of embeddings, shown as a PNG in any frontend."""

from __future__ import annotations

import io
from typing import Any

__all__ = ["embedding_map"]


def embedding_map(frame: Any, label_width: int = 28) -> Any:
    """Scatter the embeddings on their two main axes (PCA), each point labelled with its text.

    The figure is drawn off-screen (no pyplot, no GUI backend) and displayed as a PNG image,
    so it shows the same in JupyterLab, a terminal with an image viewer, or an executed notebook.
    """
    from IPython.display import Image, display
    from matplotlib.figure import Figure

    from ..frames import pca_2d, vectors_of

    coords = pca_2d(vectors_of(frame))
    figure = Figure(figsize=(7, 5))
    axes = figure.add_subplot()
    axes.scatter(coords[:, 0], coords[:, 1], s=24, color="#3b7dd8")
    for (x, y), text in zip(coords, frame["text"]):
        label = text if len(text) <= label_width else text[: label_width - 1] + "…"
        axes.annotate(label, (x, y), xytext=(4, 3), textcoords="offset points", fontsize=8)
    axes.set_title(f"{len(frame)} texts, first two principal components")
    axes.set_xlabel("PC 1")
    axes.set_ylabel("PC 2")
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100)
    display(Image(data=buffer.getvalue(), format="png"))
    return figure
