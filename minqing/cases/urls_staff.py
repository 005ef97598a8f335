"""URLs of the case loop: staff pages (each module owns its own list so work on one never touches another)."""

from django.urls import path

from minqing.cases import views

urlpatterns: list = [
    path("", views.case_list),
    path("new/", views.case_new),
    path("inbox/", views.inbox),
    path("overdue/", views.overdue),
    path("map/", views.case_map),
    path("map.json", views.case_map_json),
    path("zoning.geojson", views.zoning_geojson),
    path("export.xlsx", views.case_export),
    path("handover/", views.handover),
    path("<str:number>/", views.case_detail),
    path("<str:number>/photos/<int:pk>/", views.case_photo),
    path("<str:number>/act/<str:action>/", views.case_act),
]
