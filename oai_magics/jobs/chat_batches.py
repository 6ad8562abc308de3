"""`%%chat --each --batch`: one chat request per row handed to the Batch API.

Each row's request is one JSONL line whose `custom_id` names the row ("row-<n>"); the lines are
split over the per-batch limits like the embedding jobs', and the job is kept in the same store,
so it outlives the kernel. Collecting gives one `RowResult` per row: the reply, or the one-line
error the server gave for that line (or why no answer came: the batch failed, was cancelled or
expired).
"""

from __future__ import annotations

from typing import Any, Sequence

from ..assistants.content import chat_content
from ..client import Client
from .batch_files import BatchLimits, batch_ended, batch_records, jsonl_line, send_lines
from .batch_status import until_finished
from .rows import RowResult
from .store import ENDPOINTS, Job, JobStore, new_job_id

__all__ = ["submit_chat", "collect_chat", "resend_chat"]


def chat_lines(prompts: Sequence[str | None], params: dict, system: list[dict],
               parts: Sequence[dict] = ()) -> list[bytes]:
    """One request line per row that has a prompt (None: the row is already answered), each with
    the same images and files (`parts`, chat content parts) beside its prompt."""
    return [jsonl_line({"custom_id": f"row-{row}", "method": "POST", "url": ENDPOINTS["chat"],
                   "body": {**params, "messages": system + [{"role": "user", "content": chat_content(prompt, parts)}]}})
            for row, prompt in enumerate(prompts) if prompt is not None]


def submit_chat(client: Client, store: JobStore, prompts: Sequence[str | None], params: dict, system: list[dict], *,
                extra: dict, limits: BatchLimits = BatchLimits(), parts: Sequence[dict] = ()) -> Job:
    """Send the rows' prompts (with the images and files of `parts`) as Batch API jobs and remember
    the job (with `extra`, what the caller needs to rebuild its result); returns at once."""
    job = Job(id=new_job_id(), server=client.base_url, model=params["model"], dimensions=None,
              texts=list(prompts), kind="chat", extra=extra)
    lines = chat_lines(prompts, params, system, parts)
    if lines:
        send_lines(client, job, lines, limits)
    store.save(job)
    return job


def collect_chat(client: Client, store: JobStore, job: Job, *, wait: bool = False, **polling: Any) -> list[RowResult]:
    """Each row's reply or error, in order; rows that were not sent are left empty. A row sent again
    (`resend_chat`) is answered by the latest batch that carried it."""
    until_finished(client, store, job, wait=wait, **polling)
    results = [RowResult() for _ in job.texts]
    for batch in job.batches:
        for record in batch_records(client, batch):
            body = (record.get("response") or {}).get("body") or {}
            message = ((body.get("choices") or [{}])[0].get("message") or {})
            results[_row(record)] = RowResult(value=message.get("content") or "")
        for record in batch_records(client, batch, "error_file_id"):
            response = record.get("response") or {}
            error = (response.get("body") or {}).get("error") or record.get("error") or {}
            status = f"{response['status_code']}: " if response.get("status_code") else ""
            results[_row(record)] = RowResult(error=f"{status}{error.get('message') or error.get('code') or 'failed'}")
    ended = "; ".join(batch_ended(b) for b in job.batches if b.get("status") != "completed")
    for row, prompt in enumerate(job.texts):
        if prompt is not None and results[row].value is None and results[row].error is None:
            results[row].error = f"no answer: {ended or 'the batch gave none'}"
    return results


def resend_chat(client: Client, store: JobStore, job: Job, rows: Sequence[int],
                limits: BatchLimits = BatchLimits()) -> Job:
    """Send the rows' requests again, as they were first sent (read back from the job's input files),
    as a new batch of the same job."""
    wanted = {f"row-{row}" for row in rows}
    # One request per row, even if an earlier resend already carried it.
    requests = {request["custom_id"]: request for batch in job.batches
                for request in batch_records(client, batch, "input_file_id") if request.get("custom_id") in wanted}
    if requests:
        send_lines(client, job, [jsonl_line(request) for request in requests.values()], limits)
    store.save(job)
    return job


def _row(record: dict) -> int:
    return int(str(record["custom_id"]).removeprefix("row-"))
