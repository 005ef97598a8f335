def access(request):
    """Navigation needs to know which menu items the user may open."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    from minqing.accounts.access import can_audit

    return {"perms_audit": can_audit(user)}
