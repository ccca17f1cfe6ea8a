"""How pages name a person: the rule of regions.history.person_name, for templates."""

from django import template

from regions.history import person_name

register = template.Library()


@register.filter(name="person_name")
def person_name_filter(user, reveal_emails) -> str:
    """`{{ user|person_name:can_manage }}`: the full name, else the email address where the
    reader may see contact details, else a neutral label."""
    return person_name(user, reveal_emails=bool(reveal_emails))
