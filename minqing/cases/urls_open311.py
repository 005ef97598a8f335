"""Open311 GeoReport v2, mounted at /open311/v2/ (see minqing.cases.open311)."""

from django.urls import re_path

from minqing.cases import open311

FMT = r"\.(?P<fmt>[^./]{1,20})$"

urlpatterns = [
    re_path(r"^services" + FMT, open311.service_list),
    re_path(r"^services/(?P<code>[^/]{1,100})" + FMT, open311.service_definition),
    re_path(r"^requests" + FMT, open311.requests_view),
    re_path(r"^requests/(?P<number>[^/]{1,100})" + FMT, open311.request_detail),
    re_path(r"^tokens/(?P<token>[^/]{1,100})" + FMT, open311.token_detail),
    re_path(r"^servicerequestupdates" + FMT, open311.update_list),
    # Anything else under /open311/v2/ gets an Open311 error document, not an HTML page.
    re_path(r"^(?P<rest>.*)$", open311.not_found),
]
