"""%%chat --each VAR: the cell is a prompt template (`{{row.column}}`) sent once per row of a
DataFrame, Series or list, paced and concurrent; the answer is a DataFrame of the rows and their
replies (and the reply's JSON fields with --json), each failure marked on its row. Given that
frame back (`%%chat --each answers`), only the rows marked failed are sent again."""

from __future__ import annotations

import json
from collections import ChainMap
from typing import Any

from IPython.core.error import UsageError

from .common import read_variable
from .prompts import interpolate

__all__ = ["chat_each"]

ERROR = "error"


def chat_each(magics: Any, args: Any, template: str) -> Any:
    """Run the template over every row of `args.each`; see the module docstring."""
    from ..embeddings.rows import run_rows

    if not template.strip():
        raise UsageError("--each needs a prompt template in the cell, such as: Summarise {{row.text}}")
    frame = _as_frame(read_variable(magics.shell, args.each), args.each)
    column = args.column or "reply"
    done = frame[column].notna() & frame[ERROR].isna() if {column, ERROR} <= set(frame.columns) else None
    prompts = []
    for position, (_, row) in enumerate(frame.iterrows()):
        if done is not None and done.iloc[position]:
            prompts.append(None)
            continue
        value = row.iloc[0] if list(frame.columns) == ["input"] else row
        prompts.append(template if args.no_interpolate else
                       interpolate(template, ChainMap({"row": value}, magics.shell.user_ns)))  # type: ignore[arg-type]
    params = magics._params(args, {})
    system = [{"role": "system", "content": args.system}] if args.system else []
    client = magics.session.client

    def send(prompt: str) -> str:
        answer = client.chat.completions.create(**params, messages=system + [{"role": "user", "content": prompt}])
        return ((answer.get("choices") or [{}])[0].get("message") or {}).get("content") or ""

    results = run_rows(client, prompts, send, workers=args.workers)
    out = frame.copy()
    replies = [r.value for r in results]
    if done is not None:
        replies = [out[column].iloc[i] if prompts[i] is None else replies[i] for i in range(len(out))]
    out[column] = replies
    out[ERROR] = [r.error for r in results]
    if args.json:
        out = _with_json_fields(out, column)
    marked = out[ERROR].notna()
    failed = [str(label) for label in out.index[marked]]
    if failed:
        first = out.loc[marked, ERROR].iloc[0]
        print(f"{len(failed)} of {len(out)} rows failed (rows {', '.join(failed[:8])}{' ...' if len(failed) > 8 else ''}): "
              f"{first}; give this frame back to %%chat --each to send only those rows")
    if args.output:
        magics.shell.user_ns[args.output] = out
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
