"""List results: one page of objects, and the walk across all of them."""

from __future__ import annotations

from typing import Any, Callable, Iterator, Sequence

from .errors import APIError

__all__ = ["Page"]


class Page(Sequence[dict]):
    """One page of a list endpoint: `data`, `has_more`, `first_id`, `last_id`, and the raw JSON.

    Iterating a page gives its objects; `auto_paging_iter()` goes on to the next pages (`after=` the
    last id) for as long as the server says there are more.
    """

    def __init__(self, payload: dict, fetch_after: Callable[[str], "Page"] | None = None) -> None:
        self.raw = payload
        self.data: list[dict] = list(payload.get("data") or [])
        self.object = payload.get("object", "list")
        self.has_more = payload.get("has_more") is True  # a server's "false" (a string) is no promise of more
        self.first_id = payload.get("first_id") or (self.data[0].get("id") if self.data else None)
        self.last_id = payload.get("last_id") or (self.data[-1].get("id") if self.data else None)
        self._fetch_after = fetch_after

    def __getitem__(self, index: Any) -> Any:
        return self.data[index]

    def __len__(self) -> int:
        return len(self.data)

    def __iter__(self) -> Iterator[dict]:
        return iter(self.data)

    def __repr__(self) -> str:
        return f"<Page of {len(self.data)} {'(more)' if self.has_more else '(last)'}>"

    def has_next_page(self) -> bool:
        return self.has_more and bool(self.last_id) and self._fetch_after is not None

    def next_page(self) -> "Page":
        """The page after this one; ValueError on the last page."""
        if not self.has_next_page():
            raise ValueError("this is the last page")
        assert self._fetch_after is not None and self.last_id is not None
        return self._fetch_after(self.last_id)

    def auto_paging_iter(self) -> Iterator[dict]:
        """Every object of this page and all the pages after it.

        A server that ignores `after` would hand back the same page for ever: the walk stops with an
        APIError when a cursor comes round again or a page repeats the one before it.
        """
        page: Page = self
        cursors: set[str] = set()
        while True:
            yield from page.data
            if not page.has_next_page():
                return
            assert page.last_id is not None
            cursors.add(page.last_id)
            following = page.next_page()
            if (following.has_next_page() and following.last_id in cursors) or _ids(following) == _ids(page):
                raise APIError(f"the server ignored after={page.last_id!r}: the next page repeats what came before, "
                               f"so the listing stops here after {len(cursors)} pages")
            page = following


def _ids(page: Page) -> list[Any]:
    return [item.get("id") if isinstance(item, dict) else item for item in page.data]
