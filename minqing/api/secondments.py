"""secondments in the JSON API, through the same selectors and services as the pages."""

from ninja import Router

router = Router(tags=["secondments"])
