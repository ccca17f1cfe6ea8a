"""The form on an expired invitation's page, to ask for a new one."""

from django import forms

from alc_portal.forms import DescribedFieldsMixin


class InvitationRenewForm(DescribedFieldsMixin, forms.Form):
    email = forms.EmailField(
        label="Your email address",
        max_length=254,
        help_text="The address your invitation was sent to.",
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
