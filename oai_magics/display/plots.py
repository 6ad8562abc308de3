"""Plots: the 2-D map of a set of embeddings."""

from __future__ import annotations

from typing import Any

__all__ = ["embedding_map"]


def embedding_map(frame: Any, label_width: int = 28) -> Any:
    """Scatter the embeddings on their two main axes (PCA), each point labelled with its text."""
    import matplotlib.pyplot as plt
    from IPython.display import display

    from ..frames import pca_2d, vectors_of

    coords = pca_2d(vectors_of(frame))
    figure, axes = plt.subplots(figsize=(7, 5))
    axes.scatter(coords[:, 0], coords[:, 1], s=24, color="#3b7dd8")
    for (x, y), text in zip(coords, frame["text"]):
        label = text if len(text) <= label_width else text[: label_width - 1] + "…"
        axes.annotate(label, (x, y), xytext=(4, 3), textcoords="offset points", fontsize=8)
    axes.set_title(f"{len(frame)} texts, first two principal components")
    axes.set_xlabel("PC 1")
    axes.set_ylabel("PC 2")
    figure.tight_layout()
    display(figure)
    plt.close(figure)  # shown once, not again by the inline backend at the end of the cell
    return figure
