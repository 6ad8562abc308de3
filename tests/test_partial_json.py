"""A JSON reply laid out with indents while it arrives (`display.partial_json`); the stream view
showing it so is tested in test_display.py."""

from __future__ import annotations

import json

from hypothesis import given, strategies as st

from oai_magics.display.partial_json import indent_partial

JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
                    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4),
                    max_leaves=20)


@given(JSON, st.sampled_from([None, (",", ":")]), st.data())
def test_the_layout_is_json_dumps_indent_2_and_grows_only_at_its_end(value: object, separators: tuple | None,
                                                                     data: st.DataObject) -> None:
    text = json.dumps(value, separators=separators)
    whole = indent_partial(text)
    assert whole == json.dumps(value, indent=2)
    cut = data.draw(st.integers(0, len(text)))
    assert whole.startswith(indent_partial(text[:cut]))  # what was shown is never laid out again otherwise

