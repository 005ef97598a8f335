"""Paging shared by the list pages and the API."""

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.paginator import Paginator

from minqing.core.digits import plain_digits

# Search lists count matches up to this many; beyond it they say "more than 1000" (超过1000条).
# An exact count of 13 000 people helps nobody, and counting them costs more than the page.
COUNT_CAP = 1000


def page_of(request, qs, *, per_page: int | None = None):
    paginator = Paginator(qs, per_page or settings.PAGE_SIZE)
    return paginator.get_page(request.GET.get("page"))


class CappedPage:
    """One page of a search list whose total is counted only up to `COUNT_CAP`.

    Like a Django Page for the templates (iterate it, `number`, `has_next`, …); `count` is the
    exact number of matches, or `cap` with `count_capped` when there are more than `cap`.
    `num_pages` is None when the count is capped. A next page exists when more rows follow this
    one, whatever the count says.
    """

    def __init__(self, rows, *, number, per_page, has_next, count, count_capped, cap):
        self.object_list = rows
        self.number = number
        self.per_page = per_page
        self._has_next = has_next
        self.count = count
        self.count_capped = count_capped
        self.cap = cap

    def __iter__(self):
        return iter(self.object_list)

    def __len__(self):
        return len(self.object_list)

    def __getitem__(self, index):
        return self.object_list[index]

    def __repr__(self) -> str:
        more = "+" if self.count_capped else ""
        return f"<CappedPage {self.number} of {self.count}{more}>"

    @property
    def num_pages(self) -> int | None:
        if self.count_capped:
            return None
        return max(1, -(-self.count // self.per_page))

    def has_next(self) -> bool:
        return self._has_next

    def has_previous(self) -> bool:
        return self.number > 1

    def has_other_pages(self) -> bool:
        return self.has_next() or self.has_previous()

    def next_page_number(self) -> int:
        return self.number + 1

    def previous_page_number(self) -> int:
        return self.number - 1

    def start_index(self) -> int:
        return (self.number - 1) * self.per_page + 1 if self.object_list else 0


def page_number(raw) -> int:
    """A page number from a query parameter; anything else is page 1 (as Paginator.get_page)."""
    raw = str(raw or "").strip()
    if not plain_digits(raw, max_len=6):
        return 1
    return max(1, int(raw))


def count_cap() -> int:
    """COUNT_CAP, read when used (tests lower it)."""
    return COUNT_CAP


def capped_count(qs, cap: int | None = None) -> int:
    """How many rows `qs` has, counting at most cap + 1 of them (unordered: nothing is sorted)."""
    cap = count_cap() if cap is None else cap
    return qs.order_by().values("pk")[: cap + 1].count()


def _read(qs, start: int, stop: int) -> list:
    return list(qs[start:stop])


def capped_page(
    qs,
    number: int,
    per_page: int,
    *,
    cap: int | None = None,
    clamp: bool = False,
    read: Callable[[Any, int, int], list] = _read,
    count: Callable[[Any, int], int] = capped_count,
) -> CappedPage:
    """Page `number` of the ordered queryset `qs`, with at most two queries and no full count.

    The page is read with one row more than it shows (that row says whether a next page
    exists). A page that ends the list knows the exact total from its own position; otherwise
    the matches are counted up to cap + 1. A page past the end is empty (the API), or with
    `clamp` the last page, as Paginator.get_page does (found with an exact count: only a user
    who types a page number gets there). `read(qs, start, stop)` reads rows (default: a slice),
    `count(qs, cap)` counts (default: capped_count).
    """
    cap = count_cap() if cap is None else cap
    number = max(1, number)
    bottom = (number - 1) * per_page
    rows = read(qs, bottom, bottom + per_page + 1)
    past_end = not rows and number > 1
    if past_end and clamp:
        total = qs.count()
        number = max(1, -(-total // per_page))
        bottom = (number - 1) * per_page
        rows = read(qs, bottom, bottom + per_page + 1)
        past_end = not rows and number > 1
    has_next = len(rows) > per_page
    rows = rows[:per_page]
    if past_end:
        total = count(qs, cap)
    elif not has_next:
        total = bottom + len(rows)
    else:
        total = max(count(qs, cap), bottom + len(rows) + 1)
    capped = total > cap
    return CappedPage(
        rows,
        number=number,
        per_page=per_page,
        has_next=has_next,
        count=cap if capped else total,
        count_capped=capped,
        cap=cap,
    )


def search_page(
    request, qs, *, per_page: int | None = None, read=_read, count=capped_count
) -> CappedPage:
    """The list page's `capped_page` for the `page` query parameter."""
    return capped_page(
        qs,
        page_number(request.GET.get("page")),
        per_page or settings.PAGE_SIZE,
        clamp=True,
        read=read,
        count=count,
    )


def int_param(request, name: str, *, low: int = 0, high: int = 150) -> int | None:
    raw = request.GET.get(name, "").strip()
    if not plain_digits(raw, max_len=6):
        return None
    return max(low, min(high, int(raw)))


def querystring_without_page(request) -> str:
    params = request.GET.copy()
    params.pop("page", None)
    return params.urlencode()
