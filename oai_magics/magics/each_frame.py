"""The frames of `%%chat --each`: what the rows are, what a template sees of a row, and the answer's
columns beside the user's own.

The answer frame remembers, in `frame.attrs`, which of its columns are the user's input and which
the magic wrote (the reply, `error`, the JSON or schema fields). Given back to send its failed rows
again, it is read with that layout: a template's `{{row}}` is the same item as on the first run,
never a row that also holds the last reply, and no column of the user's is ever taken for a result
or written over (a clash is one line, or goes to the `--into` name).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Mapping

from IPython.core.error import UsageError

__all__ = ["ERROR", "Layout", "Row", "read_rows", "row_for", "mark", "typed_fields"]

ERROR = "error"
ATTR = "oai_magics.each"  # the key of the layout in an answer frame's attrs
# The pandas dtypes of a schema's field types: integers nullable, since a failed row has none.
DTYPES = {"integer": "Int64", "number": "float64", "boolean": "boolean", "string": "string"}


@dataclass
class Layout:
    """Which columns of a frame are the rows' input, and where the answer goes."""

    inputs: list[Any]  # the column labels, as the frame has them
    items: bool  # the rows came from a list or Series: `{{row}}` is the item itself
    into: str = "reply"
    fields: list[str] = field(default_factory=list)  # the JSON or schema fields the magic wrote

    def written(self) -> list[str]:
        """The columns the magic writes: the reply, the error, the fields."""
        return [self.into, ERROR, *self.fields]


class Row:
    """One row as a prompt template sees it: `{{row.column}}` and `{{row["column"]}}` give the
    column's value, for every name (`name`, `count`, any pandas attribute); `{{row}}` is the item
    (of a list or Series, or the `--column`), else the row as `column: value` lines."""

    __slots__ = ("_Row__values", "_Row__item")

    def __init__(self, values: Mapping[str, Any], item: Any = None) -> None:
        self.__values = dict(values)
        self.__item = item

    def __getattr__(self, name: str) -> Any:
        return self[name]

    def __getitem__(self, name: str) -> Any:
        if name not in self.__values:
            raise KeyError(f"no column {name!r}; the row has {', '.join(map(repr, self.__values))}")
        return self.__values[name]

    def __str__(self) -> str:
        if self.__item is not None:
            return str(self.__item)
        return "\n".join(f"{name}: {value}" for name, value in self.__values.items())


def read_rows(value: Any, name: str, into: str | None, column: str | None) -> tuple[Any, Layout]:
    """The frame of the rows `--each` names (a DataFrame, Series or list; an answer frame given back
    keeps its layout) and where the answer goes; a clash with a column of the user's is one line."""
    import pandas as pd

    if isinstance(value, pd.DataFrame) and isinstance(value.attrs.get(ATTR), dict):
        layout = Layout(**value.attrs[ATTR])
        layout.into = into or layout.into
        frame = value
    elif isinstance(value, pd.DataFrame):
        frame, layout = value, Layout(list(value.columns), items=False, into=into or "reply")
    elif isinstance(value, (pd.Series, list, tuple)):
        frame = pd.DataFrame({"input": list(value)}, index=value.index if isinstance(value, pd.Series) else None)
        layout = Layout(["input"], items=True, into=into or "reply")
    else:
        raise UsageError(f"--each {name}: give a DataFrame, a Series or a list, not a {type(value).__name__}")
    _check_columns(frame, layout, name, column)
    return frame, layout


def _check_columns(frame: Any, layout: Layout, name: str, column: str | None) -> None:
    if column is not None and column not in layout.inputs:
        raise UsageError(f"--column {column}: {name} has no such column; it has {', '.join(map(repr, layout.inputs))}")
    if layout.into == ERROR:
        raise UsageError(f"--into {ERROR}: that column holds each row's error; name the replies' column otherwise")
    if layout.into in layout.inputs:
        raise UsageError(f"--each {name}: the column {layout.into!r} is yours; name the replies' column with --into NAME")
    if ERROR in layout.inputs:
        raise UsageError(f"--each {name}: the column {ERROR!r} is yours, and the rows' errors go there; rename it "
                         f"({name}.rename(columns={{'{ERROR}': ...}}))")


def row_for(frame: Any, position: int, layout: Layout, column: str | None) -> Row:
    """What the template sees of the row at `position`: only the input columns."""
    values = {str(c): frame[c].iloc[position] for c in layout.inputs}
    column = None if column is None else str(column)
    item = values[column] if column else values["input"] if layout.items else None
    return Row(values, item)


def mark(frame: Any, layout: Layout) -> Any:
    """The answer frame, carrying its layout for when it is given back."""
    frame.attrs[ATTR] = asdict(layout)
    return frame


def typed_fields(values: list[dict | None], fields: Mapping[str, dict], index: Any) -> Any:
    """One column per schema field, typed by the field's JSON type (integers nullable `Int64`,
    numbers floats, booleans, strings; lists and objects as objects); None for a row without an answer."""
    import pandas as pd

    columns = {}
    for name, schema in fields.items():
        column = pd.Series([(v or {}).get(name) for v in values], index=index, dtype=object)
        dtype = DTYPES.get(_json_type(schema))
        columns[name] = column.astype(dtype) if dtype else column
    return pd.DataFrame(columns, index=index)


def _json_type(schema: dict) -> str | None:
    """The one JSON type a field has (a union with null counts as its other type), else None."""
    kinds = schema.get("type")
    if isinstance(kinds, str):
        return kinds
    options = kinds if isinstance(kinds, list) else [b.get("type") for b in schema.get("anyOf") or [] if isinstance(b, dict)]
    rest = [k for k in options if k != "null"]
    return rest[0] if len(rest) == 1 and isinstance(rest[0], str) else None
