from urllib.parse import urlsplit

from django.utils.http import url_has_allowed_host_and_scheme


def access(request):
    """Navigation needs to know which menu items the user may open."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    from minqing.accounts.access import can_audit

    return {"perms_audit": can_audit(user)}


def language_next(request):
    """Where the language switch returns to: this page; or, for a page answered to a POST (a
    form shown again with its errors, at its action's address, which takes only a POST), the
    page the form was sent from — never the action's address, which a GET cannot open."""
    if request.method in ("GET", "HEAD"):
        return {"lang_next": request.get_full_path()}
    referer = request.META.get("HTTP_REFERER", "")
    if referer and url_has_allowed_host_and_scheme(
        referer, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        parts = urlsplit(referer)
        return {"lang_next": parts.path + (f"?{parts.query}" if parts.query else "")}
    return {"lang_next": "/"}
