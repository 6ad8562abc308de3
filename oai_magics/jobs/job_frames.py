"""A DataFrame (or an index) kept with a Batch API job, so that collecting it (perhaps in a new
kernel) gives back the frame or index the user gave: JSON with an explicit schema, no pickle. The
`%%chat --each` jobs keep their frame, the embedding jobs the index of their texts.

`to_json(orient="split")` loses what JSON cannot say and `read_json` then guesses: dtypes (datetimes
come back as integers, nullable integers as floats, categories as strings), None in an object
column (NaN), index names, and column labels that are tuples. Here each column, the index and the
column labels carry their dtype (and a category's categories), and values are written in a form
that reads back exactly: datetimes as ISO text, durations as nanoseconds, missing values as null;
lists and dicts (the JSON fields of `--json` replies) stay as they are.
"""

from __future__ import annotations

import json
from typing import Any

__all__ = ["encode_frame", "decode_frame", "encode_index", "decode_index"]

VERSION = 1


def encode_frame(frame: Any) -> dict:
    """The frame as a dict of plain JSON values (see the module docstring)."""
    stored = {"version": VERSION, "index": _encode_index(frame.index), "columns": _encode_index(frame.columns),
              "data": [_encode_values(frame.iloc[:, i]) for i in range(frame.shape[1])]}
    return _plain_json(stored)


def encode_index(index: Any) -> dict:
    """An index (a pandas Index, or a list of labels) as plain JSON values, read back exactly by
    `decode_index`: its type, dtype, levels and names."""
    import pandas as pd

    return _plain_json(_encode_index(index if isinstance(index, pd.Index) else pd.Index(list(index))))


def _plain_json(stored: dict) -> dict:
    """One pass through json makes every value plain (numpy scalars, tuples, odd objects as text)."""
    return json.loads(json.dumps(stored, default=_plain, ensure_ascii=False))


def decode_frame(stored: dict | str) -> Any:
    """The frame `encode_frame` was given; a job stored by an earlier version (split-oriented JSON
    text) is read as it was written."""
    import pandas as pd

    if isinstance(stored, str):
        import io

        return pd.read_json(io.StringIO(stored), orient="split", dtype=False)
    index, columns = decode_index(stored["index"]), decode_index(stored["columns"])
    if not stored["data"]:
        return pd.DataFrame(index=index, columns=columns)
    # Built on the default index and labelled afterwards: labels may repeat, or be tuples.
    frame = pd.DataFrame({i: pd.Series(_decode_values(values)) for i, values in enumerate(stored["data"])})
    frame.index, frame.columns = index, columns
    return frame


def _encode_index(index: Any) -> dict:
    """Its names, and each level's values; a RangeIndex (the default) as its start, stop and step; a
    datetime or period index's frequency ("37min"), when it has one."""
    import pandas as pd

    if isinstance(index, pd.RangeIndex):
        return {"names": list(index.names), "range": [index.start, index.stop, index.step]}
    levels = [index.get_level_values(i) for i in range(index.nlevels)]
    stored = {"names": list(index.names), "levels": [_encode_values(level) for level in levels]}
    if getattr(index, "freqstr", None) and isinstance(index, pd.DatetimeIndex):
        stored["freq"] = index.freqstr
    return stored


def decode_index(stored: dict) -> Any:
    """The index `encode_index` (or `encode_frame`, for a frame's index and columns) was given."""
    import pandas as pd

    names = [_label(name) for name in stored["names"]]
    if "range" in stored:
        return pd.RangeIndex(*stored["range"], name=names[0])
    levels = [_decode_values(level, labels=True) for level in stored["levels"]]
    if "freq" in stored:
        return pd.DatetimeIndex(levels[0], name=names[0], freq=stored["freq"])
    if len(levels) == 1:
        return pd.Index(levels[0], name=names[0], tupleize_cols=False)
    return pd.MultiIndex.from_arrays(levels, names=names)


def _encode_values(values: Any) -> dict:
    """A column or an index level: its dtype and its values, each in a form JSON keeps."""
    dtype = values.dtype
    if dtype.name == "category":
        return {"dtype": "category", "ordered": bool(dtype.ordered), "categories": _encode_values(dtype.categories),
                "codes": values.array.codes.tolist()}
    if dtype.kind == "M":  # datetimes, with or without a time zone: ISO text to the nanosecond
        return {"dtype": str(dtype), "values": [None if _missing(v) else v.isoformat() for v in values]}
    if dtype.kind == "m":  # durations: whole nanoseconds
        return {"dtype": str(dtype), "values": [None if _missing(v) else v.value for v in values]}
    return {"dtype": str(dtype), "values": [None if _missing(v) else v for v in values.tolist()]}


def _decode_values(stored: dict, labels: bool = False) -> Any:
    """The values `_encode_values` wrote, with their dtype; as `labels` (of an index), a list can
    only have been a tuple (a list is no label)."""
    import pandas as pd

    dtype = stored["dtype"]
    if dtype == "category":
        categories = _decode_values(stored["categories"], labels=True)
        return pd.Categorical.from_codes(stored["codes"], categories=categories, ordered=stored["ordered"])
    plain = [_label(v) for v in stored["values"]] if labels else stored["values"]
    values = pd.Series(plain, dtype=object)
    if dtype.startswith("datetime64"):
        # The text varies in precision from value to value: ISO 8601 throughout, not the first one's format.
        return pd.to_datetime(values, utc="," in dtype, format="ISO8601").astype(dtype)  # "datetime64[ns, Europe/Lisbon]"
    if dtype.startswith("timedelta64"):
        return pd.to_timedelta(values, unit="ns").astype(dtype)
    if dtype == "object":
        return values
    try:
        return values.astype(dtype)
    except (TypeError, ValueError):  # a dtype this pandas cannot build from plain values: keep the values
        return values


def _label(value: Any) -> Any:
    return tuple(_label(v) for v in value) if isinstance(value, list) else value


def _missing(value: Any) -> bool:
    """None, pd.NA or NaT (a float NaN is kept: json writes it as NaN and reads it back)."""
    import pandas as pd

    return value is None or value is pd.NA or value is pd.NaT


def _plain(value: Any) -> Any:
    """What json cannot write itself: a numpy scalar as the Python one, anything else as its text
    (as the frame's own JSON export does)."""
    if hasattr(value, "item"):
        try:
            return value.item()
        except (TypeError, ValueError):
            pass
    return str(value)
