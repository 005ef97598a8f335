"""URLs of the case loop: reception pages (each module owns its own list so work on one never touches another)."""

from django.urls import path

from minqing.cases import reception_views as views

urlpatterns = [
    path("", views.day_list),
    path("new/", views.day_create),
    path("<int:pk>/", views.day_detail),
    path("<int:pk>/matters/", views.matter_add),
    path("<int:pk>/matters/<int:mid>/case/", views.matter_to_case),
    path("<int:pk>/export.xlsx", views.day_export),
]
