"""Incremental-scan arithmetic for `GET /v2/orders` sorted by `date_modified` ascending.

Pages are requested from an inclusive anchor (`min_date_modified`), re-anchored on the last
`date_modified` of each full page, so an order modified during the scan, which jumps to the end
of the sort order, cannot shift an unseen order from one page into an already-read one. When a
whole page shares one second (BigCommerce dates have second resolution), that second is finished
by id (`min_date_modified = max_date_modified = second`, `sort=id:asc`, `min_id`), which no
modification can shift either. Every scan stops at a horizon (`max_date_modified`, the time the
scan began): an order modified after it belongs to the next scan, which starts below the
watermark, so a store under constant change cannot keep one scan running forever.
See docs/sync-semantics.md.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

SECOND = timedelta(seconds=1)


def scan_lower_bound(watermark: datetime, overlap: timedelta) -> datetime:
    """Where an incremental scan starts: the watermark minus the overlap (inclusive)."""
    return watermark - overlap


def advance_watermark(watermark: datetime | None, committed: Sequence[datetime]) -> datetime | None:
    """The new watermark after the orders modified at `committed` are in the ledger.

    It never moves backwards, and only ever to a time whose orders are committed.
    """
    if not committed:
        return watermark
    newest = max(committed)
    return newest if watermark is None or newest > watermark else watermark


@dataclass(frozen=True, slots=True)
class PageQuery:
    """Query parameters of the next page request."""

    min_date_modified: datetime
    max_date_modified: datetime | None
    sort: str
    min_id: int | None
    page: int = 1


@dataclass(frozen=True, slots=True)
class ScanCursor:
    """Position of an incremental scan; immutable, advanced page by page with `advance`."""

    anchor: datetime
    page_size: int
    horizon: datetime
    """Upper bound (inclusive) of this scan; later changes are the next scan's."""
    tie_second: datetime | None = None
    """Set while finishing a second that filled a whole page; pages then go by id."""
    after_id: int = 0
    seen_at_anchor: frozenset[int] = field(default_factory=frozenset)
    """Ids already read whose `date_modified` equals `anchor` (the inclusive bound repeats them)."""

    def query(self) -> PageQuery:
        """The next page to request."""
        if self.tie_second is not None:
            return PageQuery(
                min_date_modified=self.tie_second,
                max_date_modified=self.tie_second,
                sort="id:asc",
                min_id=self.after_id + 1,
            )
        return PageQuery(
            min_date_modified=self.anchor,
            max_date_modified=self.horizon,
            sort="date_modified:asc",
            min_id=None,
        )

    def fresh(self, page: Sequence[tuple[int, datetime]]) -> list[tuple[int, datetime]]:
        """The (id, date_modified) pairs of `page` not already read at the anchor second."""
        second = self.tie_second if self.tie_second is not None else self.anchor
        return [item for item in page if not (item[1] == second and item[0] in self.seen_at_anchor)]

    def advance(self, page: Sequence[tuple[int, datetime]]) -> ScanCursor | None:
        """The cursor after reading `page` (in request order), or None when the scan is done."""
        full = len(page) >= self.page_size
        if self.tie_second is not None:
            if full:
                seen = self.seen_at_anchor | {order_id for order_id, _ in page}
                return replace(
                    self, after_id=max(order_id for order_id, _ in page), seen_at_anchor=seen
                )
            # Everything at the tie second has been read; go on from the next second.
            return replace(
                self,
                anchor=self.tie_second + SECOND,
                tie_second=None,
                after_id=0,
                seen_at_anchor=frozenset(),
            )
        if not full:
            return None
        last = max(modified for _, modified in page)
        at_last = frozenset(order_id for order_id, modified in page if modified == last)
        if last > self.anchor:
            return replace(self, anchor=last, seen_at_anchor=at_last)
        # The whole page shares the anchor second: finish that second by id, which no
        # modification during the scan can reorder.
        return replace(
            self, tie_second=last, after_id=0, seen_at_anchor=self.seen_at_anchor | at_last
        )
