"""The package's version: one home, read by the package root, the client's User-Agent and pyproject."""

__version__ = "0.1.0"
