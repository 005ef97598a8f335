"""Paging shared by the list pages and the API."""

from django.conf import settings
from django.core.paginator import Paginator


def page_of(request, qs, *, per_page: int | None = None):
    paginator = Paginator(qs, per_page or settings.PAGE_SIZE)
    return paginator.get_page(request.GET.get("page"))


def int_param(request, name: str, *, low: int = 0, high: int = 150) -> int | None:
    raw = request.GET.get(name, "").strip()
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 6:
        return None
    return max(low, min(high, int(raw)))


def querystring_without_page(request) -> str:
    params = request.GET.copy()
    params.pop("page", None)
    return params.urlencode()
