"""Embedding jobs against a live sandbox: the fixtures of the job tests (a shell, faults, the
sandbox's rate limits and request counts, a client)."""

from ..jobs.conftest import client, faults, run, sandbox, shell, traffic  # noqa: F401  (shared fixtures)
