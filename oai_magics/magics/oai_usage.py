"""`%oai usage`: the requests of this session, their tokens and their cost, as a DataFrame, with the
totals (per model and in all) in a few lines above it; `--since` totals a part of the session.

`--since` takes a time of day (`10:30`, `10:30:15`: today, the notebook's local time), an ISO date and
time (`2026-12-07T10:30`, local unless it says its zone), `cell` (the requests of the cell running
`%oai usage`, e.g. after `%%chat` lines in the same cell) or `cell-N` (that cell and the N before it,
by the numbers the cells show, as the `cell` column does).
"""

from __future__ import annotations

import re
from datetime import datetime, time as clock_time, timezone
from typing import Any

from IPython.core.error import UsageError

from .arguments import argument, magic_arguments
from .oai_table import ROUTER

__all__ = ["usage", "usage_frame", "usage_totals", "since_filter"]

USAGE_COLUMNS = {"model": "object", "method": "object", "path": "object", "status": "Int64", "seconds": "float64",
                 "prompt_tokens": "int64", "completion_tokens": "int64", "total_tokens": "int64",
                 "cost": "float64", "request_id": "object", "retries": "int64", "at": "object", "cell": "int64"}
_CELLS = re.compile(r"cell(?:-(\d+))?")


@ROUTER.command("usage", listing=True)
@magic_arguments(name="oai usage")
@argument("--since", metavar="WHEN",
          help="only the requests since a time (10:30, or an ISO date and time), or of this cell (cell), "
               "or of this cell and the N before it (cell-N)")
def usage(magics: Any, args: Any) -> Any:
    """Requests and tokens of this session, and what they cost: the totals in a few lines (dollars per
    model and in all), then a table with one row per request (cost NaN: no price for that model)."""
    frame = usage_frame(magics.session.records)
    if args.since:
        frame = frame[since_filter(frame, args.since, magics.session.cell())]
    print(usage_totals(frame))
    return frame


def usage_frame(records: list[dict]) -> Any:
    """The request log as a DataFrame numbered from 1; a status is an integer (<NA> when no answer came)."""
    import pandas as pd

    frame = pd.DataFrame(records, columns=list(USAGE_COLUMNS))
    counts = ["prompt_tokens", "completion_tokens", "total_tokens", "cell"]
    frame[counts] = frame[counts].fillna(0)
    frame["cost"] = pd.to_numeric(frame["cost"], errors="coerce")  # None (no price) becomes NaN
    frame = frame.astype(USAGE_COLUMNS).rename(columns={"path": "endpoint"})
    frame["at"] = pd.to_datetime(frame["at"], utc=True)
    for column in ("model", "request_id"):  # what is unknown stays None, not NaN
        frame[column] = frame[column].where(frame[column].notna(), None)
    frame.index = pd.RangeIndex(1, len(frame) + 1, name="request")
    return frame


def usage_totals(frame: Any) -> str:
    """The totals line, then the cost of each model and of all of them."""
    from ..prices import money

    failed = int((frame["status"].fillna(600) >= 400).sum())  # no status: no answer came
    lines = [f"total: {len(frame)} requests ({failed} failed, {frame['retries'].sum()} retries), "
             f"{frame['seconds'].sum():.2f} s, {frame['prompt_tokens'].sum()} prompt + "
             f"{frame['completion_tokens'].sum()} completion = {frame['total_tokens'].sum()} tokens"]
    priced = frame[frame["cost"].notna()]
    for model, costs in priced.groupby("model", sort=True)["cost"]:
        lines.append(f"  {model}: {money(costs.sum())} ({len(costs)} request{'s' * (len(costs) != 1)})")
    unpriced = frame[frame["cost"].isna() & (frame["total_tokens"] > 0)]
    if len(unpriced):
        names = ", ".join(sorted({str(m) for m in unpriced["model"]}))
        lines.append(f"  no price for {names}: {len(unpriced)} request(s) not in the cost "
                     "(add one with %config OAIMagics.prices)")
    lines.append(f"cost: {money(priced['cost'].sum())}")
    return "\n".join(lines)


def since_filter(frame: Any, since: str, cell: int) -> Any:
    """A boolean mask of the rows `--since` keeps (module docstring); a one-line error for a bad value."""
    found = _CELLS.fullmatch(since.strip())
    if found:
        return frame["cell"] >= cell - int(found.group(1) or 0)
    return frame["at"] >= _moment(since.strip())


def _moment(text: str) -> datetime:
    """A time of day today, or an ISO date and time; local unless the text names a zone."""
    try:
        if re.fullmatch(r"\d{1,2}:\d{2}(:\d{2})?", text):
            hour, minute, *second = (int(part) for part in text.split(":"))
            when = datetime.combine(datetime.now().date(), clock_time(hour, minute, *second))
        else:
            when = datetime.fromisoformat(text)
    except ValueError:
        raise UsageError(f"--since {text!r}: give a time (10:30), an ISO date and time (2026-12-07T10:30), "
                         "cell, or cell-N") from None
    return (when if when.tzinfo else when.astimezone()).astimezone(timezone.utc)
