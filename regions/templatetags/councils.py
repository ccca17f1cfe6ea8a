"""How the regions templates show a council's figures."""

from django import template
from django.utils.html import format_html

from regions.control import control_described

register = template.Library()


register.filter("control_described", control_described)


@register.filter
def control_abbr(label: str):
    """A control label ("LAB min") marked up with what it means, or a dash when not recorded."""
    if not label:
        return "–"
    return format_html('<abbr title="{}">{}</abbr>', control_described(label), label)
