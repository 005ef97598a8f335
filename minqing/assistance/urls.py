"""URLs of pairing assistance (结对帮扶)."""

from django.urls import path

from minqing.assistance import views

urlpatterns = [
    path("", views.index),
    path("pairings/", views.pairing_list),
    path("pairings/new/", views.pairing_new),
    path("pairings/<int:pk>/", views.pairing_detail),
    path("pairings/<int:pk>/help/", views.pairing_help),
    path("pairings/<int:pk>/end/", views.pairing_end),
    path("pairings/<int:pk>/edit/", views.pairing_edit),
    path("help/<int:pk>/edit/", views.help_edit),
    path("strategies/", views.strategies),
    path("due/", views.due),
    path("coverage/", views.coverage),
    path("report/", views.report),
    path("report/export.xlsx", views.report_xlsx),
    path("helpers/", views.helper_list),
    path("helpers/new/", views.helper_new),
    path("helpers/<int:pk>/", views.helper_detail),
    path("helpers/<int:pk>/disqualify/", views.helper_disqualify),
    path("helpers/<int:pk>/handover/", views.helper_handover),
    path("helpers/<int:pk>/edit/", views.helper_edit),
    path("groups/", views.group_list),
    path("groups/new/", views.group_new),
    path("groups/<int:pk>/", views.group_detail),
    path("groups/<int:pk>/edit/", views.group_edit),
]
