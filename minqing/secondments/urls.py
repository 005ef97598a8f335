"""URLs of secondments (组团派驻)."""

from django.urls import path

from minqing.secondments import views

urlpatterns = [
    path("", views.index),
    path("new/", views.secondment_new),
    path("<int:pk>/", views.secondment_detail),
    path("<int:pk>/edit/", views.secondment_edit),
    path("<int:pk>/members/new/", views.member_new),
    path("<int:pk>/members/<int:member_pk>/edit/", views.member_edit),
    path("<int:pk>/attendance/", views.attendance),
    path("<int:pk>/activities/new/", views.activity_new),
    path("<int:pk>/report/", views.report),
    path("<int:pk>/report.xlsx", views.report_xlsx),
]
