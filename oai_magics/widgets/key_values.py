"""Key/value rows: the run's metadata as an editable list of pairs (the API takes strings only)."""

from __future__ import annotations

import ipywidgets as widgets

__all__ = ["KeyValueRows", "MAX_PAIRS"]

MAX_PAIRS = 16  # the API accepts at most 16 metadata pairs, keys up to 64 and values up to 512 characters
MAX_KEY, MAX_VALUE = 64, 512


class KeyValueRows:
    """Rows of (key, value) text fields with a remove button each, and one button to add a row."""

    def __init__(self) -> None:
        self._rows: list[tuple[widgets.Text, widgets.Text, widgets.HBox]] = []
        self.add_button = widgets.Button(description="Add metadata", icon="plus",
                                         layout=widgets.Layout(width="auto")).add_class("oai-metadata-add")
        self.add_button.on_click(lambda _button: self.add_row())
        self._box = widgets.VBox([])
        self.widget = widgets.VBox([self._box, self.add_button]).add_class("oai-metadata")

    def add_row(self, key: str = "", value: str = "") -> tuple[widgets.Text, widgets.Text]:
        key_field = widgets.Text(value=key, placeholder="key", layout=widgets.Layout(width="180px"))
        value_field = widgets.Text(value=value, placeholder="value", layout=widgets.Layout(width="320px"))
        key_field.add_class("oai-metadata-key")
        value_field.add_class("oai-metadata-value")
        remove = widgets.Button(icon="times", tooltip="Remove this pair", layout=widgets.Layout(width="36px"))
        row = widgets.HBox([key_field, value_field, remove])
        entry = (key_field, value_field, row)
        remove.on_click(lambda _button: self._remove(entry))
        self._rows.append(entry)
        self._box.children = tuple(r for _, _, r in self._rows)
        return key_field, value_field

    def _remove(self, entry: tuple[widgets.Text, widgets.Text, widgets.HBox]) -> None:
        self._rows.remove(entry)
        self._box.children = tuple(r for _, _, r in self._rows)

    def clear(self) -> None:
        self._rows.clear()
        self._box.children = ()

    @property
    def value(self) -> dict[str, str]:
        """The pairs as a dict; rows with an empty key and value are ignored.

        Raises ValueError (one readable line) for a value without a key, a repeated key, or more
        or longer pairs than the API takes, so the mistake is shown before anything is sent.
        """
        pairs: dict[str, str] = {}
        for key_field, value_field, _ in self._rows:
            key, value = key_field.value.strip(), value_field.value
            if not key and not value.strip():
                continue
            if not key:
                raise ValueError(f"metadata value {value!r} has no key")
            if key in pairs:
                raise ValueError(f"metadata key {key!r} is given twice")
            if len(key) > MAX_KEY or len(value) > MAX_VALUE:
                raise ValueError(f"metadata key {key[:20]!r}: keys take at most {MAX_KEY} characters, values {MAX_VALUE}")
            pairs[key] = value
        if len(pairs) > MAX_PAIRS:
            raise ValueError(f"metadata takes at most {MAX_PAIRS} pairs, not {len(pairs)}")
        return pairs
