"""URLs of cards (民情联系卡, 黄丝带卡, 走访记录表)."""

from django.urls import path

from minqing.cards import views

urlpatterns = [
    path("household/<int:pk>/", views.household_card),
    path("grid/<str:code>/", views.grid_cards),
    path("yellow-ribbon/<int:pk>/", views.yellow_ribbon),
    path("visit-form/blank/", views.visit_form),
    path("visit-form/<int:pk>/", views.visit_form),
]
