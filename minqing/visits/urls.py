"""URLs of visits (走访), campaigns (走访活动), the worker's diary and the household timeline."""

from django.urls import path

from minqing.visits import views

urlpatterns = [
    path("", views.index),
    path("due/", views.due),
    path("new/", views.visit_new),
    path("<int:pk>/", views.visit_detail),
    path("<int:pk>/case/", views.visit_to_case),
    path("<int:pk>/edit/", views.visit_edit),
    path("plans/", views.plan_set),
    path("plans/<int:pk>/delete/", views.plan_remove),
    path("diary/", views.diary),
    path("diary/<int:pk>/edit/", views.diary_edit),
    path("diary/<int:pk>/delete/", views.diary_delete),
    path("campaigns/", views.campaign_list),
    path("campaigns/new/", views.campaign_new),
    path("campaigns/mine/", views.campaign_mine),
    path("campaigns/<int:pk>/", views.campaign_detail),
    path("campaigns/<int:pk>/edit/", views.campaign_edit),
    path("campaigns/<int:pk>/launch/", views.campaign_action, {"action": "launch"}),
    path("campaigns/<int:pk>/close/", views.campaign_action, {"action": "close"}),
    path("campaigns/<int:pk>/rebuild/", views.campaign_rebuild),
    path("campaigns/<int:pk>/delete/", views.campaign_delete),
    path("campaigns/<int:pk>/add/", views.campaign_add),
    path("campaigns/<int:pk>/extend/", views.campaign_extend),
    path("campaigns/<int:pk>/targets/", views.campaign_targets),
    path("campaigns/<int:pk>/assign/", views.campaign_assign),
    path("campaigns/<int:pk>/export.xlsx", views.campaign_export),
]
