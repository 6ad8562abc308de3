"""%%chat --each VAR: the cell is a prompt template (`{{row.column}}`) sent once per row of a
DataFrame, Series or list, paced and concurrent; the answer is a DataFrame of the rows and their
replies (in `--into NAME`, default `reply`), and the reply's JSON fields with --json, or one typed
column per field with --schema; each failure is marked on its row. Given that frame back
(`%%chat --each answers`), only the rows marked failed are sent again, with the prompts of the first
run (`each_frame`). With --batch the rows go through the Batch API instead: a job handle at once,
and `%chat --collect JOB` later gives the same frame."""

from __future__ import annotations

import contextlib
import json
from collections import ChainMap
from dataclasses import asdict
from typing import Any, Mapping, Sequence

from IPython.core.error import UsageError

from ..prices import money

from .common import key_advice, key_refused, read_variable
from .each_frame import ERROR, Layout, mark, read_rows, row_for, typed_fields
from .job_costs import chat_forecast, chat_row_cost, confirm, job_budget
from .prompts import interpolate
from .reasoning import with_limit_fallback
from ..schema import Refusal, Schema, SchemaMismatch

__all__ = ["chat_each", "collect_each"]


def chat_each(magics: Any, args: Any, template: str) -> Any:
    """Run the template over every row of `args.each`; see the module docstring."""
    from ..assistants.content import chat_content
    from ..jobs.rows import run_rows

    if not template.strip():
        raise UsageError("--each needs a prompt template in the cell, such as: Summarise {{row.text}}")
    frame, layout = read_rows(read_variable(magics.shell, args.each), args.each, args.into, args.column)
    schema = magics._schema(args)
    if schema is not None:
        _check_fields(schema, layout, args.each)
    prompts = _prompts(magics, args, frame, layout, template)
    params = magics._params(args, {}, schema)
    system = [{"role": "system", "content": args.system}] if args.system else []
    budget = _estimate(magics, args, params, system, [p for p in prompts if p is not None])
    parts, notes = magics._parts(args)  # the same files and images beside every row's prompt
    for note in notes:
        print(note)
    if args.batch:
        return _submit(magics, args, frame, layout, schema, prompts, params, system, parts)

    def send(client: Any, prompt: str, headers: Mapping[str, str]) -> str:
        body = {**params, "messages": system + [{"role": "user", "content": chat_content(prompt, parts)}]}
        answer = with_limit_fallback(magics.session, body, lambda sent: client.chat.completions.create(
            **sent, extra_headers=headers))
        message = (answer.get("choices") or [{}])[0].get("message") or {}
        return message.get("content") or (Refusal(message["refusal"]) if message.get("refusal") else "")

    client = magics.session.client
    with budget.watching(client) if budget is not None else contextlib.nullcontext():
        results = run_rows(client, prompts, send, workers=args.workers, budget=budget,
                           row_cost=chat_row_cost(magics.session, params["model"], system, args.max_tokens))
    if budget is not None and budget.refused:
        sent = [r for p, r in zip(prompts, results) if p is not None]
        print(budget.summary(sum(r.error is None for r in sent), len(sent)))
    return _answers(magics, frame, layout, args.json, schema, prompts, results, args.output)


def _estimate(magics: Any, args: Any, params: dict, system: list[dict], todo: list[str]) -> Any:
    """Say what the job will cost and ask above the threshold (nothing is sent before): --yes, or a
    --budget the estimate stays within, is the answer. The job's Budget with --budget (None without);
    with --batch, a budget the estimate passes sends nothing."""
    budget = job_budget(magics.session, params["model"], args.budget)
    if not todo:  # every row was answered before: nothing will be sent
        return None
    forecast = chat_forecast(magics.session, params, system, todo, args.max_tokens, args.batch)
    confirm(magics.session, forecast, args.yes or (budget is not None and forecast.cost <= budget.limit))
    if args.batch and budget is not None and forecast.cost > budget.limit:
        raise UsageError(f"not sent: the estimate passes --budget {money(budget.limit)}, and a Batch API job "
                         "cannot stop half way (send fewer rows, or raise the budget)")
    return None if args.batch else budget


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
    layout, schema = _stored_shape(job.extra, frame)
    return _answers(magics, frame, layout, job.extra["json"], schema, job.texts, results, output)


def _stored_shape(extra: dict, frame: Any) -> tuple[Layout, Schema | None]:
    """The layout and schema a job was sent with (a job from before layouts: its reply column)."""
    if "layout" in extra:
        layout = Layout(**extra["layout"])
    else:
        into = extra["column"]
        inputs = [str(c) for c in frame.columns if c not in (into, ERROR)]
        layout = Layout(inputs, items=inputs == ["input"], into=into)
    schema = Schema(extra["schema"]["name"], extra["schema"]["json"]) if extra.get("schema") else None
    return layout, schema


def _job_store(magics: Any) -> Any:
    """The Batch API job store, in the embedding cache's file (`embed.store_file`)."""
    from ..jobs.store import open_store
    from .embed import store_file

    return open_store(store_file(magics.session))


def _check_fields(schema: Schema, layout: Layout, name: str) -> None:
    """A schema field may not take the place of a column of the user's (nor of the reply's or error's)."""
    for field in schema.fields():
        if field in layout.inputs or field in (layout.into, ERROR):
            raise UsageError(f"--schema: the field {field!r} would write over the column {field!r} of {name}; "
                             "rename the field" + (" or use --into NAME" if field == layout.into else ""))


def _prompts(magics: Any, args: Any, frame: Any, layout: Layout, template: str) -> list[str | None]:
    """The prompt of each row, made from its input columns only (so a re-run sends what the first run
    did); None for a row a previous run answered (it has a reply and no error)."""
    done = None
    if {layout.into, ERROR} <= set(frame.columns) and layout.into not in layout.inputs:
        done = (frame[layout.into].notna() & frame[ERROR].isna()).tolist()
    prompts: list[str | None] = []
    for position in range(len(frame)):
        if done is not None and done[position]:
            prompts.append(None)
            continue
        row = row_for(frame, position, layout, args.column)
        prompts.append(template if args.no_interpolate else
                       interpolate(template, ChainMap({"row": row}, magics.shell.user_ns),  # type: ignore[arg-type]
                                   magics.session.settings.table_rows))
    return prompts


def _submit(magics: Any, args: Any, frame: Any, layout: Layout, schema: Schema | None, prompts: list[str | None],
            params: dict, system: list[dict], parts: list[dict]) -> Any:
    from ..jobs.chat_batches import submit_chat
    from ..jobs.job_frames import encode_frame

    extra = {"frame": encode_frame(frame), "layout": asdict(layout), "json": bool(args.json),
             "schema": {"name": schema.name, "json": schema.json} if schema is not None else None}
    with _job_store(magics) as store:
        job = submit_chat(magics.session.client, store, prompts, params, system, extra=extra, parts=parts)
    print(f"{sum(p is not None for p in prompts)} row(s) sent as job {job.id}; collect with %chat --collect {job.id}")
    if args.output:
        magics.shell.user_ns[args.output] = job
    return job


def _answers(magics: Any, frame: Any, layout: Layout, as_json: bool, schema: Schema | None,
             prompts: Sequence[str | None], results: list, output: str | None) -> Any:
    """The rows with their replies, errors and fields (rows not sent keep theirs); failures in one line."""
    sent = [prompt is not None for prompt in prompts]
    replies = [str(r.value) if r.value is not None else None for r in results]
    errors = [r.error for r in results]
    values: list[dict | None] = [None] * len(results)
    if as_json or schema is not None:
        for row in range(len(results)):
            if sent[row] and errors[row] is None:
                values[row], errors[row] = _fields(results[row].value, schema)
    out = frame[layout.inputs].copy()
    out[layout.into] = _merged(frame, layout.into, replies, sent)
    out[ERROR] = _merged(frame, ERROR, errors, sent)
    fields = None
    if schema is not None:
        fields = typed_fields(_records(frame, layout, values, sent), schema.fields(), frame.index)
    elif as_json:
        fields = _json_fields(_records(frame, layout, values, sent), frame.index, layout)
    if fields is not None:
        layout.fields = [str(c) for c in fields.columns]
        out = out.join(fields)
    _report(magics, out, results)
    out = mark(out, layout)
    if output:
        magics.shell.user_ns[output] = out
    return out


def _merged(frame: Any, column: str, new: list, sent: list[bool]) -> list:
    """A written column: the new value on a row sent now, the frame's old one on a row kept."""
    old = frame[column].tolist() if column in frame.columns else [None] * len(new)
    return [new[row] if sent[row] else old[row] for row in range(len(new))]


def _fields(value: Any, schema: Schema | None) -> tuple[dict | None, str | None]:
    """(the reply's fields, None), or (None, why the reply has none) with --schema."""
    if schema is None:
        try:
            parsed = json.loads(value) if isinstance(value, str) else None
        except ValueError:
            return None, None
        return (parsed if isinstance(parsed, dict) else None), None
    if isinstance(value, Refusal):
        return None, f"the model refused: {value[:200]}"
    try:
        parsed = schema.parse(value)
    except SchemaMismatch as exc:
        return None, str(exc)
    return (parsed.model_dump() if hasattr(parsed, "model_dump") else parsed), None


def _json_fields(records: list[dict], index: Any, layout: Layout) -> Any:
    """The JSON object fields of the replies as columns (none that would take a column of the user's)."""
    import pandas as pd

    parsed = pd.DataFrame(records, index=index)
    return parsed[[c for c in parsed.columns if c not in (*layout.inputs, layout.into, ERROR)]]


def _records(frame: Any, layout: Layout, values: list[dict | None], sent: list[bool]) -> list[dict]:
    """Each row's fields: the reply's on a row sent now, the earlier run's (its field columns) on a row kept."""
    earlier = [c for c in layout.fields if c in frame.columns]

    def kept(row: int) -> dict:
        pairs = ((c, frame[c].iloc[row]) for c in earlier)
        return {c: v for c, v in pairs if not _missing(v)}

    return [(values[row] or {}) if sent[row] else kept(row) for row in range(len(sent))]


def _missing(value: Any) -> bool:
    """None, NaN or pandas' NA (a list or dict is a value, however it compares)."""
    import pandas as pd

    return value is None or value is pd.NA or (isinstance(value, float) and value != value)


def _report(magics: Any, out: Any, results: list) -> None:
    """One line naming the failed rows, the first error, and what to do next."""
    marked = out[ERROR].notna()
    failed = [str(label) for label in out.index[marked]]
    if not failed:
        return
    first = out.loc[marked, ERROR].iloc[0]
    next_step = (f"the server refused the key: {key_advice(magics.session)}" if any(map(key_refused, results))
                 else "give this frame back to %%chat --each to send only those rows")
    print(f"{len(failed)} of {len(out)} rows failed (rows {', '.join(failed[:8])}{' ...' if len(failed) > 8 else ''}): "
          f"{first}; {next_step}")
