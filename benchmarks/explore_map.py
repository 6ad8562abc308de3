"""The explorer's map of many points, measured in a fresh process: `explore()` (the 2-D map, k-means
clusters, the frame), then the interactive map's widget built from it, with wall and CPU time and
the peak resident memory it adds over the vectors already held.

    python benchmarks/explore_map.py METHOD COUNT [DIMENSIONS]      # prints one line of JSON

The vectors stand in for an embedding model's: COUNT unit vectors of DIMENSIONS (1,536, as
text-embedding-3-small) around 40 topics, drawn with a fixed seed. `run.py map` runs it for PCA and
UMAP at 100,000 points.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from worker import peak_rss_growth  # noqa: E402


def vectors(count: int, dimensions: int) -> "object":
    """The embedding frame of `count` texts: 40 topic directions plus noise, each row of length 1."""
    import numpy as np

    from oai_magics.frames import embedding_frame

    rng = np.random.default_rng(0)
    topics = rng.standard_normal((40, dimensions), dtype=np.float32)
    chosen = rng.integers(0, 40, count)
    matrix = topics[chosen]
    for start in range(0, count, 10000):  # noise in blocks: one (count, dimensions) float64 draw would be 1.2 GB
        block = slice(start, start + 10000)
        matrix[block] += 0.6 * rng.standard_normal(matrix[block].shape, dtype=np.float32)
    matrix /= np.linalg.norm(matrix, axis=1, keepdims=True)
    return embedding_frame([f"text {i} about topic {c}" for i, c in enumerate(chosen)], matrix)


def main() -> None:
    method, count = sys.argv[1], int(sys.argv[2])
    dimensions = int(sys.argv[3]) if len(sys.argv) > 3 else 1536
    frame = vectors(count, dimensions)
    import sklearn.cluster  # noqa: F401  (imported before the clock starts, as in a notebook's second map)

    if method == "umap":
        import umap  # noqa: F401

    from oai_magics.display.explorer import explore
    from oai_magics.display.explorer_view import MapView

    found: dict = {}

    def job() -> dict:
        started = time.perf_counter()
        explorer = explore(frame, method=method, clusters=8)
        found["explore_s"] = time.perf_counter() - started
        started = time.perf_counter()
        MapView(explorer.frame, "text", "cluster", [], explorer._nearest)
        found["widget_s"] = time.perf_counter() - started
        return {"clusters": int(explorer.frame["cluster"].nunique())}

    result = peak_rss_growth(job)
    print(json.dumps({**result, **found, "count": count, "dimensions": dimensions,
                      "vectors_mb": count * dimensions * 4 / 1e6}))


if __name__ == "__main__":
    main()
