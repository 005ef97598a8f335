def bell(request):
    """The header's bell: the signed-in user's unread notifications.

    A callable the template calls when it draws the header: a fragment without the header does
    not count, and a page that renders parts with their own context counts once
    (cases.selectors.unread_count caches it; a session user comes with it counted).
    """
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    from minqing.cases.selectors import unread_count

    return {"unread_notifications": lambda: unread_count(user)}


def handover(request):
    """Whether the cases menu offers 案件交接 (cases.handover): asked only where it is drawn."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    from minqing.cases.handover import may_hand_over

    return {"may_hand_over": lambda: may_hand_over(user)}
