"""%%chat --each VAR: the cell is a prompt template (`{{row.column}}`) sent once per row of a
DataFrame, Series or list, paced and concurrent; the answer is a DataFrame of the rows and their
replies (and the reply's JSON fields with --json), each failure marked on its row. Given that
frame back (`%%chat --each answers`), only the rows marked failed are sent again. With --batch the
rows go through the Batch API instead: a job handle at once, and `%chat --collect JOB` later gives
the same frame."""

from __future__ import annotations

import json
from collections import ChainMap
from typing import Any, Mapping, Sequence

from IPython.core.error import UsageError

from .common import key_advice, key_refused, read_variable
from .prompts import interpolate
from .reasoning import with_limit_fallback

__all__ = ["chat_each", "collect_each"]

ERROR = "error"


def chat_each(magics: Any, args: Any, template: str) -> Any:
    """Run the template over every row of `args.each`; see the module docstring."""
    from ..jobs.rows import run_rows

    if not template.strip():
        raise UsageError("--each needs a prompt template in the cell, such as: Summarise {{row.text}}")
    frame = _as_frame(read_variable(magics.shell, args.each), args.each)
    column = args.column or "reply"
    prompts = _prompts(magics, args, frame, column, template)
    params = magics._params(args, {})
    system = [{"role": "system", "content": args.system}] if args.system else []
    if args.batch:
        return _submit(magics, args, frame, column, prompts, params, system)

    def send(client: Any, prompt: str, headers: Mapping[str, str]) -> str:
        body = {**params, "messages": system + [{"role": "user", "content": prompt}]}
        answer = with_limit_fallback(magics.session, body, lambda sent: client.chat.completions.create(
            **sent, extra_headers=headers))
        return ((answer.get("choices") or [{}])[0].get("message") or {}).get("content") or ""

    results = run_rows(magics.session.client, prompts, send, workers=args.workers)
    return _answers(magics, frame, column, args.json, prompts, results, args.output)


def collect_each(magics: Any, job_id: str, *, wait: bool = False, resend: bool = False, output: str | None = None) -> Any:
    """A `--each --batch` job's frame, as the direct path gives it (`%chat --collect`, `%oai jobs
    collect`); with `resend`, its failed rows are sent again as a new batch of the job, which is returned."""
    from ..jobs.batch_status import JobNotReady
    from ..jobs.chat_batches import collect_chat, resend_chat
    from ..jobs.job_frames import decode_frame
    from .embed import kept_elsewhere

    with _job_store(magics) as store:
        job = store.get(job_id)
        if job is None or job.kind != "chat":
            known = ", ".join([j.id for j in store.all() if j.kind == "chat"][-5:]) or "none yet"
            elsewhere = kept_elsewhere(magics.session, job_id) if job is None else ""
            raise UsageError(f"no %%chat --each job {job_id!r}; recent ones: {known}{elsewhere}")
        with magics.session.client_for(job.server, f"job {job.id}") as client:  # the job's server, not the active one
            try:
                results = collect_chat(client, store, job, wait=wait)
            except JobNotReady as exc:
                raise UsageError(str(exc)) from None
            failed = [row for row, result in enumerate(results) if result.error is not None]
            if failed and resend:
                return resend_chat(client, store, job, failed)
    frame = decode_frame(job.extra["frame"])
    return _answers(magics, frame, job.extra["column"], job.extra["json"], job.texts, results, output)


def _job_store(magics: Any) -> Any:
    """The Batch API job store, in the embedding cache's file (`embed.store_file`)."""
    from ..jobs.store import open_store
    from .embed import store_file

    return open_store(store_file(magics.session))


def _prompts(magics: Any, args: Any, frame: Any, column: str, template: str) -> list[str | None]:
    """The prompt of each row; None for a row a previous run answered (it has a reply and no error)."""
    done = frame[column].notna() & frame[ERROR].isna() if {column, ERROR} <= set(frame.columns) else None
    prompts: list[str | None] = []
    for position, (_, row) in enumerate(frame.iterrows()):
        if done is not None and done.iloc[position]:
            prompts.append(None)
            continue
        value = row.iloc[0] if list(frame.columns) == ["input"] else row
        prompts.append(template if args.no_interpolate else
                       interpolate(template, ChainMap({"row": value}, magics.shell.user_ns)))  # type: ignore[arg-type]
    return prompts


def _submit(magics: Any, args: Any, frame: Any, column: str, prompts: list[str | None], params: dict,
            system: list[dict]) -> Any:
    from ..jobs.chat_batches import submit_chat
    from ..jobs.job_frames import encode_frame

    extra = {"frame": encode_frame(frame), "column": column, "json": bool(args.json)}
    with _job_store(magics) as store:
        job = submit_chat(magics.session.client, store, prompts, params, system, extra=extra)
    print(f"{sum(p is not None for p in prompts)} row(s) sent as job {job.id}; collect with %chat --collect {job.id}")
    if args.output:
        magics.shell.user_ns[args.output] = job
    return job


def _answers(magics: Any, frame: Any, column: str, as_json: bool, prompts: Sequence[str | None], results: list,
             output: str | None) -> Any:
    """The rows with their replies and errors (rows not sent keep theirs); failures reported in one line."""
    out = frame.copy()
    replies = [r.value for r in results]
    errors = [r.error for r in results]
    if column in out.columns:
        replies = [out[column].iloc[i] if prompts[i] is None else replies[i] for i in range(len(out))]
    out[column] = replies
    out[ERROR] = errors
    if as_json:
        out = _with_json_fields(out, column)
    marked = out[ERROR].notna()
    failed = [str(label) for label in out.index[marked]]
    if failed:
        first = out.loc[marked, ERROR].iloc[0]
        next_step = (f"the server refused the key: {key_advice(magics.session)}" if any(map(key_refused, results))
                     else "give this frame back to %%chat --each to send only those rows")
        print(f"{len(failed)} of {len(out)} rows failed (rows {', '.join(failed[:8])}{' ...' if len(failed) > 8 else ''}): "
              f"{first}; {next_step}")
    if output:
        magics.shell.user_ns[output] = out
    return out


def _as_frame(value: Any, name: str) -> Any:
    import pandas as pd

    if isinstance(value, pd.DataFrame):
        return value
    if isinstance(value, pd.Series):
        return value.to_frame("input")
    if isinstance(value, (list, tuple)):
        return pd.DataFrame({"input": list(value)})
    raise UsageError(f"--each {name}: give a DataFrame, a Series or a list, not a {type(value).__name__}")


def _with_json_fields(frame: Any, column: str) -> Any:
    """The reply's JSON object fields as columns beside it (rows whose reply is not JSON get none)."""
    import pandas as pd

    def fields(text: Any) -> dict:
        try:
            parsed = json.loads(text) if isinstance(text, str) else None
        except ValueError:
            return {}
        return parsed if isinstance(parsed, dict) else {}

    parsed = pd.DataFrame([fields(t) for t in frame[column]], index=frame.index)
    parsed = parsed[[c for c in parsed.columns if c not in frame.columns]]
    return pd.concat([frame, parsed], axis=1)
