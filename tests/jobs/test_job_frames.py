"""The frame a `%%chat --each --batch` job keeps comes back as it was given: dtypes, missing values,
text in any script, the index, labels that are not strings, nested JSON fields."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from oai_magics.jobs.job_frames import decode_frame, encode_frame

FRAMES = {
    "numbers with NaN and infinities": pd.DataFrame({"a": [1, 2, 3], "b": [1.5, np.nan, np.inf]}),
    "None and NaN in an object column": pd.DataFrame({"t": ["x", np.nan, None]}, dtype=object),
    "text in any script, and text that looks like a number or null": pd.DataFrame(
        {"t": ["café", "日本語 🙂", "NaN", "null", "", "001", "1e3"]}),
    "a named string index that looks numeric": pd.DataFrame({"t": ["a", "b"]}, index=pd.Index(["001", "2"], name="id")),
    "a range index not starting at 0": pd.DataFrame({"t": ["a", "b"]}, index=pd.RangeIndex(10, 12)),
    "datetimes, with and without a zone, to the nanosecond": pd.DataFrame(
        {"naive": pd.to_datetime(["2024-01-01 05:06:07.123456", None, "2024-01-02"], format="ISO8601"),
         "zoned": pd.to_datetime(["2024-03-31 00:30:00.000000001", None, "2024-10-27 01:30"],
                                 format="ISO8601").tz_localize("Europe/Lisbon", ambiguous=[True, True, False])},
        index=pd.to_datetime(["2024-01-01", "2024-02-01", "2024-02-01 12:00"], format="ISO8601")),
    "durations": pd.DataFrame({"td": pd.to_timedelta([1.5, None], unit="s")}),
    "nullable integers, booleans and strings": pd.DataFrame(
        {"n": pd.array([1, None], dtype="Int64"), "b": pd.array([True, None], dtype="boolean"),
         "s": pd.array(["a", None], dtype="string")}),
    "categories, ordered, with one unused": pd.DataFrame(
        {"c": pd.Categorical(["x", "y", None], categories=["y", "x", "z"], ordered=True)},
        index=pd.CategoricalIndex(["p", "q", "p"])),
    "float32 and unsigned 64-bit": pd.DataFrame({"f": np.array([0.1, np.nan], dtype=np.float32),
                                                 "u": np.array([2**63, 1], dtype=np.uint64)}),
    "labels that are numbers, booleans, repeated or tuples": pd.DataFrame(
        [[1, 2, 3, 4, 5]], columns=pd.Index([0, 1.5, True, "a", "a"], dtype=object)),
    "a MultiIndex on both axes": pd.DataFrame(
        [[1, 2], [3, 4]], index=pd.MultiIndex.from_tuples([("x", 1), ("y", 2)], names=["k", None]),
        columns=pd.MultiIndex.from_tuples([("a", "b"), ("a", "c")])),
    "nested JSON fields": pd.DataFrame({"tags": [["a", "b"], []], "meta": [{"k": 1, "é": [1, None]}, None]}),
    "numpy scalars in an object column": pd.DataFrame({"o": pd.Series([np.int64(5), np.float32(1.5)], dtype=object)}),
    "periods": pd.DataFrame({"p": pd.period_range("2024-01", periods=2, freq="M")}),
    "no rows": pd.DataFrame({"t": pd.Series([], dtype=object)}),
    "no columns": pd.DataFrame(index=pd.Index(["a", "b"]), columns=pd.Index([], dtype=object)),
}


@pytest.mark.parametrize("frame", FRAMES.values(), ids=FRAMES.keys())
def test_a_frame_comes_back_as_it_was_given(frame: pd.DataFrame) -> None:
    stored = json.loads(json.dumps(encode_frame(frame)))  # as the job store writes and reads it
    pd.testing.assert_frame_equal(decode_frame(stored), frame)


def test_a_frame_stored_by_the_earlier_version_still_reads() -> None:
    frame = pd.DataFrame({"text": ["a", "b"]}, index=["r1", "r2"])
    pd.testing.assert_frame_equal(decode_frame(frame.to_json(orient="split")), frame)
