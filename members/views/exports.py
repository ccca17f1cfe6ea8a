"""The export log, for the national office: who downloaded which personal data, and when."""

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Q
from django.shortcuts import render
from django.views.decorators.http import require_safe

from alc_portal.forms import DescribedFieldsMixin
from members.access import export_log_visible_to, require_national_staff

# The date picker sends ISO dates; a date typed or in a link may be written the British way.
DATE_FORMATS = ["%Y-%m-%d", "%d %B %Y", "%d %b %Y", "%d/%m/%Y"]
DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class ExportLogFilterForm(DescribedFieldsMixin, forms.Form):
    person = forms.CharField(
        label="Person",
        required=False,
        max_length=254,
        help_text="Part of the name or email address of who downloaded it.",
    )
    since = forms.DateField(
        label="From", required=False, widget=DATE_WIDGET, input_formats=DATE_FORMATS
    )
    until = forms.DateField(
        label="To", required=False, widget=DATE_WIDGET, input_formats=DATE_FORMATS
    )

    def clean(self):
        data = super().clean()
        since, until = data.get("since"), data.get("until")
        if since and until and since > until:
            self.add_error("until", "The end date must be on or after the start date.")
        return data

    def filter(self, entries):
        data = self.cleaned_data
        if data.get("person"):
            text = data["person"].strip()
            entries = entries.filter(
                Q(user__email__icontains=text) | Q(user__full_name__icontains=text)
            )
        if data.get("since"):
            entries = entries.filter(at__date__gte=data["since"])
        if data.get("until"):
            entries = entries.filter(at__date__lte=data["until"])
        return entries


@login_required
@require_safe
def export_log(request):
    require_national_staff(request.user)
    form = ExportLogFilterForm(request.GET or None)
    entries = export_log_visible_to(request.user).select_related("user")
    if form.is_bound and form.is_valid():
        entries = form.filter(entries)
    page = Paginator(entries, 50).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {"form": form, "page": page, "query": query.urlencode()}
    return render(request, "members/export_log.html", context)
