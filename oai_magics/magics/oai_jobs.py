"""`%oai jobs`: the Batch API jobs of every kind (`%embed --batch`, `%%chat --each --batch`) in one
place: list, show, collect, resend, forget. `%embed --jobs`, `%embed --collect` and `%chat --collect`
are short forms of these; each kind's collection has one home (`embed`, `chat_each`), chosen here
by the job's kind."""

from __future__ import annotations

from typing import Any, Callable

from .arguments import a_name, an_id, argument, magic_arguments
from .common import listing
from .embed import collect_embeddings, forget_job, stored_job, stores
from .oai_table import ROUTER

__all__ = ["JOBS"]

JOBS = ROUTER.group("jobs", "Batch API jobs of every kind: list, show, collect, resend, forget.", default="list")
# How each kind of job is collected: (magics, job id, wait=, resend=, output=) -> a DataFrame, or the
# job when its failed rows were sent again.
def collect_chat(magics: Any, job_id: str, **options: Any) -> Any:
    """A `%%chat --each --batch` job's frame; its module (schemas, prices) loads on first use."""
    from .chat_each import collect_each

    return collect_each(magics, job_id, **options)


COLLECTORS: dict[str, Callable[..., Any]] = {"embeddings": collect_embeddings, "chat": collect_chat}


def _kind(magics: Any, job_id: str) -> str:
    with stored_job(magics, job_id) as (_, job):
        return job.kind


@JOBS.command("list", listing=True)
@magic_arguments(name="oai jobs list")
def list_jobs(magics: Any, args: Any) -> Any:
    """Every job, embeddings and %%chat --each rows alike, with its kind, status and counts (as last seen)."""
    from ..jobs.store import job_listing

    with stores(magics.session, no_cache=True) as (store, _):
        return job_listing(store.current())


@JOBS.command("show", listing=True)
@magic_arguments(name="oai jobs show")
@argument("job", type=an_id, help="the job id (job-...)")
def show(magics: Any, args: Any) -> Any:
    """A job's batches as the server reports them now (status, request counts, files)."""
    from ..jobs.batch_status import refresh

    with stored_job(magics, args.job) as (store, job), magics.session.client_for(job.server, f"job {job.id}") as client:
        refresh(client, store, job)
    print(repr(job))
    return listing(job.batches)


@JOBS.command("collect")
@magic_arguments(name="oai jobs collect")
@argument("job", type=an_id, help="the job id (job-...)")
@argument("--wait", action="store_true", help="block until the job has ended")
@argument("-o", "--output", type=a_name, metavar="NAME", help="store the DataFrame in this variable")
def collect(magics: Any, args: Any) -> Any:
    """The DataFrame of a finished job: embeddings, or the rows with their replies."""
    return COLLECTORS[_kind(magics, args.job)](magics, args.job, wait=args.wait, output=args.output)


@JOBS.command("resend")
@magic_arguments(name="oai jobs resend")
@argument("job", type=an_id, help="the job id (job-...)")
@argument("--wait", action="store_true", help="block until the job has ended before looking for failed rows")
def resend(magics: Any, args: Any) -> Any:
    """Send a finished job's failed rows again, as a new batch of the same job (its DataFrame if none failed)."""
    return COLLECTORS[_kind(magics, args.job)](magics, args.job, wait=args.wait, resend=True)


@JOBS.command("forget")
@magic_arguments(name="oai jobs forget")
@argument("job", type=an_id, help="the job id (job-...)")
def forget(magics: Any, args: Any) -> None:
    """Remove a job from the local store; its batches and files at the server are left as they are."""
    forget_job(magics, args.job)
