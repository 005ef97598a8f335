"""URLs of the case loop: stats pages (each module owns its own list so work on one never touches another)."""

from django.urls import path

from minqing.cases import stats_views

urlpatterns: list = [
    path("stats/", stats_views.stats),
    path("stats/export.xlsx", stats_views.stats_xlsx),
    path("ledger/", stats_views.ledger),
    path("ledger.xlsx", stats_views.ledger_xlsx),
]
