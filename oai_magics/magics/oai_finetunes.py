"""`%oai finetunes`: the legacy fine-tunes API (list, create, show, cancel, events), as DataFrames."""

from __future__ import annotations

from typing import Any

from .arguments import a_model, an_id, argument, at_least, magic_arguments
from .common import listing
from .oai_table import ROUTER

__all__ = ["FINETUNES"]

FINETUNES = ROUTER.group("finetunes", "Legacy fine-tunes: list, create, show, cancel, events.", default="list")


def _job_frame(job: dict) -> Any:
    return listing([{k: v for k, v in job.items() if k != "events"}])  # events: `%oai finetunes events`


@FINETUNES.command("list", listing=True)
@magic_arguments(name="oai finetunes list")
def list_jobs(magics: Any, args: Any) -> Any:
    """The legacy fine-tune jobs, as a DataFrame."""
    jobs = list(magics.session.client.fine_tunes.list())
    if not jobs:  # still a (empty) table, so `-o NAME` holds a DataFrame like every other listing
        print("No fine-tunes yet: start one with %oai finetunes create --training-file FILE_ID")
    return listing(jobs)


@FINETUNES.command("create")
@magic_arguments(name="oai finetunes create")
@argument("--training-file", required=True, type=an_id, metavar="FILE_ID", help="the uploaded training file (%%oai files upload PATH --purpose fine-tune)")
@argument("--validation-file", type=an_id, metavar="FILE_ID", help="an uploaded validation file")
@argument("-m", "--model", type=a_model, help="the base model (legacy fine-tunes: davinci-002, babbage-002)")
@argument("--suffix", help="a name to add to the fine-tuned model's id")
@argument("--epochs", type=at_least(1), help="training epochs")
def create(magics: Any, args: Any) -> Any:
    """Start a legacy fine-tune job."""
    params = {"training_file": args.training_file, "validation_file": args.validation_file, "model": args.model,
              "suffix": args.suffix, "n_epochs": args.epochs}
    return _job_frame(magics.session.client.fine_tunes.create(**{k: v for k, v in params.items() if v is not None}))


@FINETUNES.command("show")
@magic_arguments(name="oai finetunes show")
@argument("job", type=an_id, help="the fine-tune id")
def show(magics: Any, args: Any) -> Any:
    """One job's details."""
    return _job_frame(magics.session.client.fine_tunes.retrieve(args.job))


@FINETUNES.command("cancel")
@magic_arguments(name="oai finetunes cancel")
@argument("job", type=an_id, help="the fine-tune id")
def cancel(magics: Any, args: Any) -> Any:
    """Cancel a job."""
    return _job_frame(magics.session.client.fine_tunes.cancel(args.job))


@FINETUNES.command("events", listing=True)
@magic_arguments(name="oai finetunes events")
@argument("job", type=an_id, help="the fine-tune id")
def events(magics: Any, args: Any) -> Any:
    """A job's events, as a DataFrame."""
    return listing(magics.session.client.fine_tunes.list_events(args.job))
