"""Forms for joining, adding and editing councillors, imports and representatives."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

from alc_portal.forms import DescribedFieldsMixin
from alc_portal.validators import (
    PHONE_MAX,
    PHONE_STORED_MESSAGE,
    phone_needs_correcting,
    phone_validate,
)
from members import imports
from members.models import User
from members.services.onboarding import LEFT_ON_FUTURE
from regions.access import regions_managed_by
from regions.models import Region


class _PersonFields(DescribedFieldsMixin, forms.Form):
    """Name, ward and phone, checked with the same rules as the CSV import."""

    full_name = forms.CharField(
        label="Full name",
        max_length=imports.NAME_MAX,
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    ward = forms.CharField(label="Ward or division", max_length=imports.WARD_MAX)

    def clean_full_name(self):
        return imports.clean_person_name(self.cleaned_data["full_name"])

    def clean_ward(self):
        return imports.clean_ward(self.cleaned_data["ward"])


class JoinForm(_PersonFields):
    """A newly elected councillor asking to join. The council is typed (with suggestions from
    the real list) and matched by name, short name or GSS code."""

    council = forms.CharField(
        label="Council",
        max_length=200,
        help_text="Start typing the council's name, e.g. 'Cardiff' or 'Leeds City Council'.",
        widget=forms.TextInput(attrs={"list": "council-options", "autocomplete": "off"}),
    )
    email = forms.EmailField(
        label="Email address",
        max_length=imports.EMAIL_MAX,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    field_order = ["full_name", "council", "ward", "email"]

    def __init__(self, *args, lookup: imports.CouncilLookup, **kwargs):
        super().__init__(*args, **kwargs)
        self.lookup = lookup

    def clean_council(self):
        text = self.cleaned_data["council"]
        matches = self.lookup.find(text)
        if not matches:
            raise ValidationError(
                "We could not find that council. Choose one of the suggestions, or type its "
                "full name."
            )
        if len(matches) > 1:
            raise ValidationError("More than one council has that name: type its full name.")
        return matches[0]

    def clean_email(self):
        # Whether the address already has an account is not said here: the form is public, and
        # join_request_submit emails the address's owner instead.
        return imports.clean_email(self.cleaned_data["email"])


class RefuseForm(DescribedFieldsMixin, forms.Form):
    reason = forms.CharField(
        label="Reason for refusing",
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Kept with the request for the record.",
    )


def _phone_field() -> forms.CharField:
    return forms.CharField(
        label="Phone (optional)",
        max_length=PHONE_MAX,
        required=False,
        widget=forms.TextInput(attrs={"type": "tel"}),
    )


class CouncillorAddForm(_PersonFields):
    email = forms.EmailField(label="Email address", max_length=imports.EMAIL_MAX)
    phone = _phone_field()
    field_order = ["full_name", "email", "ward", "phone"]

    def clean_email(self):
        # Representatives are trusted with this answer; the public join form is not.
        email = imports.clean_email(self.cleaned_data["email"])
        if imports.email_in_use(email):
            raise ValidationError("This email address already has an account.")
        return email

    def clean_phone(self):
        return phone_validate(self.cleaned_data.get("phone", ""))


class CouncillorEditForm(_PersonFields):
    """A councillor's details as their representative edits them. Pass the saved values as
    `initial`: a saved phone number that breaks today's rule is kept if sent back unchanged,
    with a note next to the field asking for it to be corrected."""

    phone = _phone_field()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if phone_needs_correcting(self.initial.get("phone")):
            self.fields["phone"].help_text = PHONE_STORED_MESSAGE
            self._describe_fields()

    def clean_phone(self):
        return phone_validate(self.cleaned_data.get("phone", ""), stored=self.initial.get("phone"))


class CouncillorLeaveForm(DescribedFieldsMixin, forms.Form):
    left_on = forms.DateField(
        label="No longer a councillor from",
        initial=timezone.localdate,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text="Today or an earlier date. Any group office they hold ends on this date.",
    )
    confirm = forms.BooleanField(
        label="Yes, this person is no longer a councillor",
        error_messages={"required": "Tick the box to confirm."},
    )

    def clean_left_on(self):
        left_on = self.cleaned_data["left_on"]
        if left_on > timezone.localdate():
            raise ValidationError(LEFT_ON_FUTURE)
        return left_on


class ImportUploadForm(DescribedFieldsMixin, forms.Form):
    file = forms.FileField(
        label="CSV file",
        help_text=(
            "Columns: full_name, email, council (GSS code or name), ward, and optionally phone. "
            f"At most {imports.MAX_FILE_BYTES // (1024 * 1024)} MB and "
            f"{imports.MAX_ROWS:,} rows."
        ),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > imports.MAX_FILE_BYTES:
            raise ValidationError(
                f"The file is larger than {imports.MAX_FILE_BYTES // (1024 * 1024)} MB. "
                "Split it into smaller files."
            )
        return upload


class RepresentativeAppointForm(DescribedFieldsMixin, forms.Form):
    email = forms.EmailField(
        label="Email address of the person to appoint",
        max_length=imports.EMAIL_MAX,
        help_text="They must already have an account on the portal.",
    )
    region = forms.ModelChoiceField(label="Region", queryset=Region.objects.none())

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["region"].queryset = regions_managed_by(user)

    def clean_email(self):
        email = self.cleaned_data["email"].strip().lower()
        user = User.objects.filter(email__iexact=email, is_active=True).first()
        if user is None:
            raise ValidationError("Nobody with this email address has an account.")
        return user
