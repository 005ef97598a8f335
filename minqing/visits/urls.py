"""URLs of visits (走访), the worker's diary and the household timeline."""

from django.urls import path

from minqing.visits import views

urlpatterns = [
    path("", views.index),
    path("due/", views.due),
    path("new/", views.visit_new),
    path("<int:pk>/", views.visit_detail),
    path("<int:pk>/case/", views.visit_to_case),
    path("plans/", views.plan_set),
    path("plans/<int:pk>/delete/", views.plan_remove),
    path("diary/", views.diary),
    path("diary/<int:pk>/edit/", views.diary_edit),
    path("diary/<int:pk>/delete/", views.diary_delete),
]
