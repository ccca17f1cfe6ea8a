"""Forms for joining, adding and editing councillors, imports and representatives."""

from allauth.account.models import EmailAddress
from django import forms
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html

from alc_portal.dates import BritishDateField
from alc_portal.forms import DescribedFieldsMixin
from alc_portal.validators import (
    PHONE_MAX,
    PHONE_STORED_MESSAGE,
    phone_needs_correcting,
    phone_validate,
)
from members import imports
from members.access import (
    ADDRESS_SIGNED_IN,
    SUPERUSER_ONLY,
    councillors_managed_by,
    may_change_roles,
)
from members.models import Councillor, User
from members.services.councillors import LEFT_ON_FUTURE
from regions.access import regions_managed_by
from regions.models import Region
from regions.names import CouncilNames


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
    the real list) and found by any name people use for it (regions.names)."""

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

    def __init__(self, *args, lookup: CouncilNames, **kwargs):
        super().__init__(*args, **kwargs)
        self.lookup = lookup

    def clean_council(self):
        match = self.lookup.find(self.cleaned_data["council"])
        if match.found:
            return match.council
        # Several councils fit (Newcastle) or none does: never guessed, the form asks.
        possible = match.candidates if match.is_ambiguous else match.suggestions
        if possible:
            names = [council.name for council in possible]
            listed = ", ".join(names[:-1])
            listed = f"{listed} or {names[-1]}" if listed else names[0]
            raise ValidationError(
                f"We could not find that council. Did you mean {listed}? Type its full name."
            )
        raise ValidationError(
            "We could not find that council. Choose one of the suggestions, or type its full name."
        )

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
        label="Phone",  # the field include adds "(optional)"
        max_length=PHONE_MAX,
        required=False,
        widget=forms.TextInput(attrs={"type": "tel"}),
    )


EMAIL_TAKEN = "This email address already has an account."


def email_taken_explained(email: str, *, by, council=None):
    """Why a representative (or staff) `by` cannot add a councillor with this address, saying
    what they may know: who the person is and where they serve, or served, in the regions they
    manage (with a way to reinstate a former councillor); for anyone elsewhere only that they
    are on another council. Returns plain text or escaped HTML."""
    owner = User.objects.filter(email__iexact=email).first()
    if owner is None:
        address = EmailAddress.objects.filter(email__iexact=email).select_related("user").first()
        owner = address.user if address else None
    councillor = (
        Councillor.objects.filter(user=owner).select_related("user", "council").first()
        if owner is not None and by is not None
        else None
    )
    if councillor is None:
        if owner is None or by is None:
            return EMAIL_TAKEN
        return (
            f"{EMAIL_TAKEN} It is not a councillor's account, so it cannot be used here: ask "
            "the national office to link it."
        )
    if not councillors_managed_by(by).filter(pk=councillor.pk).exists():
        return (
            f"{EMAIL_TAKEN} It belongs to a councillor on another council: ask the national "
            "office to move them."
        )
    name = councillor.user.full_name or councillor.user.email
    where = "this council" if council and councillor.council_id == council.pk else None
    where = where or councillor.council.name
    if councillor.left_on is None:
        return f"{EMAIL_TAKEN} {name} is already a councillor on {where}."
    reinstate_url = reverse("council_councillors", args=[councillor.council.slug])
    return format_html(
        '{} {} was a councillor on {} until {}. <a href="{}#former-heading">Reinstate them '
        "from the former councillors of {}</a> instead of adding them again.",
        EMAIL_TAKEN,
        name,
        where,
        date_format(councillor.left_on, "j F Y"),
        reinstate_url,
        councillor.council.short_name or councillor.council.name,
    )


class CouncillorAddForm(_PersonFields):
    email = forms.EmailField(label="Email address", max_length=imports.EMAIL_MAX)
    phone = _phone_field()
    field_order = ["full_name", "email", "ward", "phone"]

    def __init__(self, *args, by=None, council=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.by = by
        self.council = council

    def clean_email(self):
        # Representatives are trusted with this answer (within their regions); the public join
        # form is not.
        email = imports.clean_email(self.cleaned_data["email"])
        if imports.email_in_use(email):
            raise ValidationError(email_taken_explained(email, by=self.by, council=self.council))
        return email

    def clean_phone(self):
        return phone_validate(self.cleaned_data.get("phone", ""))


class _ReadOnlyInput(forms.TextInput):
    """A text box for a field the form ignores: read-only rather than disabled, so that keyboard
    and screen reader users can still reach it and hear its note."""

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        context["widget"]["attrs"].pop("disabled", None)
        context["widget"]["attrs"]["readonly"] = True
        return context


class _ShownOnlyField(forms.CharField):
    """A saved value shown for reference: the form keeps its initial value whatever is sent,
    and never checks it (a form given no initial value is not refused for it)."""

    widget = _ReadOnlyInput

    def __init__(self, **kwargs):
        super().__init__(disabled=True, **kwargs)

    def clean(self, value):
        return value


class CouncillorEditForm(_PersonFields):
    """A councillor's details as their representative edits them. Pass the saved values as
    `initial`: a saved phone number that breaks today's rule is kept if sent back unchanged,
    with a note next to the field asking for it to be corrected.

    The email address may be corrected only where members.access.address_change_refusal allows
    (pass its answer as `email_refusal`); otherwise it is shown read-only with that reason, and
    whatever is sent is ignored."""

    email = forms.EmailField(
        label="Email address",
        max_length=imports.EMAIL_MAX,
        help_text="Correcting it sends a new invitation to the new address.",
    )
    phone = _phone_field()
    field_order = ["full_name", "email", "ward", "phone"]

    def __init__(
        self, *args, email_refusal: str | None = ADDRESS_SIGNED_IN, by=None, council=None, **kwargs
    ):
        super().__init__(*args, **kwargs)
        self.email_editable = email_refusal is None
        self.by = by
        self.council = council
        if email_refusal is not None:
            # Shown and read, but whatever is sent is ignored.
            self.fields["email"] = _ShownOnlyField(label="Email address", help_text=email_refusal)
        if phone_needs_correcting(self.initial.get("phone")):
            self.fields["phone"].help_text = PHONE_STORED_MESSAGE
        self._describe_fields()

    def clean_email(self):
        saved = self.initial.get("email") or ""
        if not self.email_editable:
            return saved
        # Representatives are trusted with this answer; the public join form is not.
        email = imports.clean_email(self.cleaned_data["email"])
        if email != saved.lower() and imports.email_in_use(email):
            raise ValidationError(email_taken_explained(email, by=self.by, council=self.council))
        return email

    def clean_phone(self):
        return phone_validate(self.cleaned_data.get("phone", ""), stored=self.initial.get("phone"))


class CouncillorLeaveForm(DescribedFieldsMixin, forms.Form):
    left_on = BritishDateField(
        label="No longer a councillor from",
        initial=timezone.localdate,
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


class GroupImportUploadForm(ImportUploadForm):
    """A file of Labour groups' details: the groups export's columns."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["file"].help_text = (
            "Columns as in the groups export: council (or gss_code), group, contact_email, "
            "phone, postal_address and, for each office, its email, name and since. "
            f"At most {imports.MAX_FILE_BYTES // (1024 * 1024)} MB and {imports.MAX_ROWS:,} rows."
        )


class RepresentativeAppointForm(DescribedFieldsMixin, forms.Form):
    email = forms.EmailField(
        label="Email address of the person to appoint",
        max_length=imports.EMAIL_MAX,
        help_text="They must already have an account on the portal.",
    )
    region = forms.ModelChoiceField(label="Region", queryset=Region.objects.none())

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.by = user
        self.fields["region"].queryset = regions_managed_by(user)

    def clean_email(self):
        email = self.cleaned_data["email"].strip().lower()
        user = User.objects.filter(email__iexact=email, is_active=True).first()
        if user is None:
            raise ValidationError("Nobody with this email address has an account.")
        if not may_change_roles(self.by, user):
            raise ValidationError(SUPERUSER_ONLY)
        return user
