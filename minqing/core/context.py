def access(request):
    """Navigation needs to know which menu items the user may open.

    The unread count (the bell in the header) is a callable the template calls when it draws
    the header: a fragment without the header does not count, and a page that renders parts
    with their own context counts once (cases.selectors.unread_count caches it).
    """
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    from minqing.accounts.access import can_audit
    from minqing.cases.selectors import unread_count

    return {"perms_audit": can_audit(user), "unread_notifications": lambda: unread_count(user)}
