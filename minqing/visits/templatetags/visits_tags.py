"""The household page's visit panel: schedule, plans and the timeline, and its 走访活动 (the
campaigns it is on, or may be added to), for the viewing user.

Used by visits/_household_timeline.html, which registry/household_detail.html includes, so the
registry view needs to know nothing about visits.
"""

from django import template
from django.template.loader import render_to_string

from minqing.accounts.access import can_edit_registry
from minqing.visits import selectors, services
from minqing.visits.forms import PlanForm
from minqing.visits.listing import due_rows_html, grid_rows_html

register = template.Library()


@register.simple_tag(takes_context=True)
def household_visits(context, household) -> dict:
    user = context["request"].user
    return {
        "schedule": selectors.schedule_of(household),
        "plans": list(selectors.plans_of(household)),
        "items": selectors.timeline_for(user, household),
        "can_plan": can_edit_registry(user),
        # Sent with errors (visits.views.plan_set), the form comes back as typed.
        "plan_form": context.get("plan_form") or PlanForm(),
    }


@register.simple_tag(takes_context=True)
def household_campaigns(context, household) -> dict:
    """The 走访活动 panel of the household page (visits/_household_campaigns.html): the
    campaigns it is on, and those an office may add it to in one click."""
    return services.household_campaigns(context["request"].user, household)


@register.simple_tag
def due_rows(page, today):
    """The due list's rows (visits.listing)."""
    return due_rows_html(list(page), today)


@register.simple_tag
def grid_due_rows(rows):
    """An office's due page: each grid's counts (visits.listing)."""
    return grid_rows_html(rows)


@register.simple_tag(takes_context=True)
def visits_campaign_card(context) -> str:
    """The home page's 走访活动 card: open campaigns the user sees and their own targets left
    ('' when there is neither)."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return ""
    card = selectors.campaign_card(user)
    if not card["open"] and not card["mine"]:
        return ""
    return render_to_string("visits/_campaign_card.html", {"card": card}, request=request)
