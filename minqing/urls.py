from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path, re_path

from minqing.accounts import views as account_views
from minqing.api.api import api, no_such_address
from minqing.core import views as core_views
from minqing.grids import views as grid_views
from minqing.registry import exports
from minqing.registry import import_views as imp
from minqing.registry import views as reg

urlpatterns = [
    path("", core_views.home, name="home"),
    path("healthz", core_views.healthz),
    path("favicon.ico", core_views.FaviconView.as_view()),
    path("i18n/", include("django.conf.urls.i18n")),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(
            template_name="accounts/login.html", redirect_authenticated_user=True
        ),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/password/", account_views.PasswordChange.as_view()),
    path("accounts/tokens/", account_views.tokens),
    path("accounts/tokens/<int:pk>/delete/", account_views.token_delete),
    path("audit/", account_views.audit_log),
    path("tree/", grid_views.tree),
    path("tree/<str:code>/", grid_views.node_detail),
    path("tree/<str:code>/geojson", grid_views.node_geojson),
    path("teams/<str:code>/", account_views.team_page),
    path("teams/<str:code>/card/", account_views.team_card),
    path("teams/<str:code>/members/new/", account_views.team_member_new),
    path("teams/<str:code>/members/<int:member_pk>/", account_views.team_member_edit),
    path("teams/<str:code>/members/<int:member_pk>/delete/", account_views.team_member_delete),
    path("people/", reg.person_list),
    path("people/new/", reg.person_create),
    path("people/<int:pk>/", reg.person_detail),
    path("people/<int:pk>/edit/", reg.person_edit),
    path("people/<int:pk>/delete/", reg.person_delete),
    path("people/<int:pk>/reveal/", reg.person_reveal),
    path("households/", reg.household_list),
    path("households/new/", reg.household_create),
    path("households/<int:pk>/", reg.household_detail),
    path("households/<int:pk>/edit/", reg.household_edit),
    path("households/<int:pk>/delete/", reg.household_delete),
    path("households/<int:pk>/needs/", reg.household_need_add),
    path("households/<int:pk>/needs/<int:need_pk>/", reg.household_need_status),
    path("imports/", imp.import_start),
    path("imports/template.xlsx", imp.import_template),
    path("imports/<int:pk>/", imp.import_preview),
    path("imports/<int:pk>/confirm/", imp.import_confirm),
    path("imports/<int:pk>/cancel/", imp.import_cancel),
    path("people/export.xlsx", exports.people_xlsx),
    path("households/export.xlsx", exports.households_xlsx),
    path("places/export.xlsx", exports.simple_xlsx, {"kind": "places"}),
    path("orgs/export.xlsx", exports.simple_xlsx, {"kind": "orgs"}),
    path("audit/export.xlsx", exports.audit_xlsx),
    path("ledgers/", exports.ledgers),
    path("cases/", include("minqing.cases.urls_stats")),
    path("cases/", include("minqing.cases.urls_staff")),
    path("reception/", include("minqing.cases.urls_reception")),
    path("", include("minqing.cases.urls_public")),
    path("open311/v2/", include("minqing.cases.urls_open311")),
    path("visits/", include("minqing.visits.urls")),
    path("assistance/", include("minqing.assistance.urls")),
    path("duties/", include("minqing.duties.urls")),
    path("secondments/", include("minqing.secondments.urls")),
    path("cards/", include("minqing.cards.urls")),
    path("admin/", admin.site.urls),
    path("api/", no_such_address),  # ninja's root raises Http404: the site's HTML page
    path("api/", api.urls),
    # After the API's own addresses: whatever else is under /api/ is told so in JSON.
    re_path(r"^api/(?P<rest>.*)$", no_such_address),
]

for _kind in reg.SIMPLE:
    urlpatterns += [
        path(f"{_kind}/", reg.simple_list, {"kind": _kind}),
        path(f"{_kind}/new/", reg.simple_edit, {"kind": _kind}),
        path(f"{_kind}/<int:pk>/", reg.simple_detail, {"kind": _kind}),
        path(f"{_kind}/<int:pk>/edit/", reg.simple_edit, {"kind": _kind}),
        path(f"{_kind}/<int:pk>/delete/", reg.simple_delete, {"kind": _kind}),
        path(f"{_kind}/<int:pk>/reveal/", reg.simple_reveal, {"kind": _kind}),
    ]
