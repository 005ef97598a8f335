"""URLs of duties (干部直接联系群众)."""

from django.urls import path

from minqing.duties import views

urlpatterns = [
    path("", views.index),
    path("days/", views.day_new),
    path("days/<int:pk>/delete/", views.day_remove),
    path("report/", views.report),
    path("report.xlsx", views.report_xlsx),
    path("holders/new/", views.holder_new),
    path("holders/<int:pk>/", views.holder_detail),
    path("holders/<int:pk>/links/", views.link_new),
    path("links/<int:pk>/end/", views.link_end),
    path("holders/<int:pk>/end/", views.holder_end),
]
