"""URLs of the case loop: public pages (each module owns its own list so work on one never touches another)."""

from django.urls import path

from minqing.cases import public_views as views

urlpatterns = [
    path("track/", views.track),
    path("track/rate/", views.rate),
    path("notifications/", views.notifications),
    path("notifications/read-all/", views.notifications_read_all),
    path("notifications/<int:pk>/read/", views.notification_read),
]
