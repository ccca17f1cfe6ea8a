"""What the campaigns app shows on a person's own pages."""

from django import template

from members.selectors import national_office_email

from ..access import own_suppressions

register = template.Library()


@register.inclusion_tag("campaigns/_own_mailing_stops.html", takes_context=True)
def campaign_mailing_stops(context, user):
    """Any stop on campaign mail to the person's own addresses: an unsubscribe they can undo, or
    a bounce, complaint or staff entry to take up with the national office."""
    return {
        "suppressions": list(own_suppressions(user)),
        "national_office_email": national_office_email(),
        "csrf_token": context.get("csrf_token"),
    }
