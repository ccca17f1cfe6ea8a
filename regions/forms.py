from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

from alc_portal.dates import BritishDateField, date_display
from alc_portal.forms import DescribedFieldsMixin
from alc_portal.validators import date_validate, phone_validate, years_from_today

from . import queues
from .access import officer_candidates
from .control import CONTROL_NAMES, control_choices_present, control_code_from_text, control_filter
from .models import Council, CouncilGroup, GroupOfficer

NO_MARKUP = "Use plain text: remove the < and > characters."


def plain_text(value: str) -> str:
    """Names and addresses are shown as plain text, so markup is refused rather than kept."""
    if "<" in value or ">" in value:
        raise ValidationError(NO_MARKUP)
    return value.strip()


class CouncilFilterForm(forms.Form):
    """Filters for the councils of a region; every field is optional."""

    HAS_GROUP_CHOICES = [("", "Any"), ("yes", "Yes"), ("no", "No")]
    MISSING_CHOICES = [
        ("", "Any"),
        ("address", "Contact address"),
        ("leader", "Leader"),
        ("secretary", "Secretary"),
    ]

    kind = forms.ChoiceField(
        label="Type", choices=[("", "Any type"), *Council.Kind.choices], required=False
    )
    control = forms.ChoiceField(
        label="Control",
        required=False,
        error_messages={"invalid_choice": "Choose a kind of control from the list."},
    )
    election_on = BritishDateField(label="Has an election on", required=False)
    has_group = forms.ChoiceField(label="Labour group", choices=HAS_GROUP_CHOICES, required=False)
    missing = forms.ChoiceField(
        label="Group details missing",
        choices=MISSING_CHOICES,
        required=False,
        help_text="Councils whose Labour group lacks this today.",
    )
    election = forms.ChoiceField(
        label="Election",
        choices=[("", "Any time"), ("year", "In the next 12 months")],
        required=False,
    )
    portal = forms.ChoiceField(
        label="Councillors on the portal",
        choices=[("", "Any number"), ("short", "Fewer than Labour seats")],
        required=False,
    )

    def __init__(self, data=None, *, control_labels=(), **kwargs):
        """`control_labels`: the control labels of the councils being filtered; the control
        list offers the kinds of control found among them."""
        if data is not None:
            data = self._normalised(data)
        super().__init__(data, **kwargs)
        choices = control_choices_present(control_labels)
        chosen = self.data.get("control")
        # A choice from a link may name a kind of control these councils lack, or an earlier
        # party code: it is still offered, so the list shows what is being filtered on.
        if chosen in CONTROL_NAMES and chosen not in dict(choices):
            choices.append((chosen, CONTROL_NAMES[chosen]))
        self.fields["control"].choices = [("", "Any control"), *choices]

    def _normalised(self, data):
        """Filters from links made before the control list, or typed by hand: a party code or
        name becomes its choice, and a date the field reads is shown as "6 May 2027"."""
        data = data.copy()
        control = data.get("control")
        if control:
            data["control"] = control_code_from_text(control) or control
        election_on = data.get("election_on")
        if election_on:
            try:
                parsed = self.base_fields["election_on"].to_python(election_on)
            except ValidationError:
                pass
            else:
                data["election_on"] = date_display(parsed)
        return data

    def applied(self) -> dict:
        """The filters that were chosen and are valid. A field that did not validate is left
        out (its error is shown next to it) without dropping the others."""
        if not self.is_bound:
            return {}
        self.is_valid()  # cleaned_data then holds exactly the fields that validated
        return {name: value for name, value in self.cleaned_data.items() if value}

    def filter(self, councils):
        """The councils that match the valid filters; invalid ones are left out (and shown)."""
        data = self.applied()
        if data.get("kind"):
            councils = councils.filter(kind=data["kind"])
        if data.get("control"):
            councils = councils.filter(control_filter([data["control"]], field="control"))
        if data.get("election_on"):
            councils = councils.filter(elections__date=data["election_on"])
        if data.get("has_group") == "yes":
            councils = councils.filter(labour_group__isnull=False)
        elif data.get("has_group") == "no":
            councils = councils.filter(labour_group__isnull=True)
        if data.get("missing"):
            councils = councils.filter(queues.MISSING[data["missing"]]())
        if data.get("election") == "year":
            councils = councils.filter(queues.elections_ahead())
        if data.get("portal") == "short":
            councils = councils.filter(queues.short_on_portal())
        return councils

    def is_valid(self):
        return self.is_bound and super().is_valid()


class GroupContactForm(DescribedFieldsMixin, forms.ModelForm):
    class Meta:
        model = CouncilGroup
        fields = ["name", "contact_email", "phone", "postal_address"]
        widgets = {"postal_address": forms.Textarea(attrs={"rows": 4})}
        help_texts = {"phone": "For example 020 7946 0000 or +44 20 7946 0000."}

    def clean_name(self):
        return plain_text(self.cleaned_data["name"])

    def clean_postal_address(self):
        # Browsers send CRLF line ends; store one kind.
        return plain_text(self.cleaned_data["postal_address"].replace("\r\n", "\n"))

    def clean_phone(self):
        # The association's one phone rule. A saved number that predates it is kept if sent
        # back unchanged, so that it does not block editing the group's other details.
        return phone_validate(self.cleaned_data["phone"], stored=self.instance.phone)


OFFICER_START_HELP = "No more than a year ahead: a term cannot end or pass on before it starts."


class OfficerAppointForm(DescribedFieldsMixin, forms.Form):
    role = forms.ChoiceField(label="Office", choices=GroupOfficer.Role.choices)
    user = forms.ModelChoiceField(
        label="Councillor",
        queryset=None,
        help_text="Serving councillors on this council who have an account on the portal.",
    )
    start_date = BritishDateField(label="Start date", help_text=OFFICER_START_HELP)

    def __init__(self, *args, group: CouncilGroup, **kwargs):
        super().__init__(*args, **kwargs)
        # Only this council's serving councillors: an id from anywhere else is not a choice.
        self.fields["user"].queryset = officer_candidates(group).order_by("full_name", "email")
        self.fields["user"].label_from_instance = lambda u: u.full_name or u.email
        self.fields["start_date"].initial = timezone.localdate

    def clean_start_date(self):
        # A mistyped year (2206, 1026) would leave an office nobody can end or hand on: ending
        # and replacing both refuse dates before the start.
        return date_validate(
            self.cleaned_data["start_date"], latest=years_from_today(1), what="start date"
        )


class OfficerEndForm(DescribedFieldsMixin, forms.Form):
    # officer_end.html renders the field with as_field_group: no colon after the label, as in
    # templates/includes/field.html.
    label_suffix = ""
    end_date = BritishDateField(label="Term ends on")

    def __init__(self, *args, officer: GroupOfficer | None = None, **kwargs):
        if officer is not None:
            # Every officer's form sits on one page, so ids must differ.
            kwargs.setdefault("auto_id", f"id_officer{officer.pk}_%s")
        super().__init__(*args, **kwargs)
        self.fields["end_date"].initial = timezone.localdate


class CouncilCorrectionForm(DescribedFieldsMixin, forms.ModelForm):
    """A council's figures as the national office corrects them after a by-election, a
    defection or an election night."""

    reason = forms.CharField(
        label="What changed",
        max_length=300,
        help_text="For the council's history, e.g. “By-election in Castle ward, 3 June 2027”.",
    )

    class Meta:
        model = Council
        fields = ["total_seats", "labour_seats", "control"]
        labels = {"total_seats": "Seats", "labour_seats": "Labour seats"}
        help_texts = {"control": "As the data writes it: LAB, LAB min, NOC, LD/IND..."}

    def clean_control(self):
        return plain_text(self.cleaned_data["control"])

    def clean_reason(self):
        return plain_text(self.cleaned_data["reason"])

    def clean(self):
        data = super().clean()
        seats, labour = data.get("total_seats"), data.get("labour_seats")
        if seats is not None and labour is not None and labour > seats:
            self.add_error("labour_seats", "There cannot be more Labour seats than seats.")
        return data


class ElectionForm(DescribedFieldsMixin, forms.Form):
    date = BritishDateField(label="Date")
    seats_up = forms.IntegerField(label="Seats up", min_value=0)
    labour_seats_up = forms.IntegerField(label="Labour seats up", min_value=0)

    def clean_date(self):
        day = self.cleaned_data["date"]
        if day < timezone.localdate():
            raise ValidationError("Only upcoming elections are corrected here: give a later date.")
        return day

    def clean(self):
        data = super().clean()
        seats, labour = data.get("seats_up"), data.get("labour_seats_up")
        if seats is not None and labour is not None and labour > seats:
            self.add_error("labour_seats_up", "There cannot be more Labour seats up than seats up.")
        return data


class _ElectionFormSetBase(forms.BaseFormSet):
    def clean(self):
        days = [f.cleaned_data["date"] for f in self.forms if f.cleaned_data.get("date")
                and not f.cleaned_data.get("DELETE")]  # fmt: skip
        if len(days) != len(set(days)):
            raise ValidationError("Each election date once, please.")

    def elections(self) -> list[dict]:
        """The upcoming elections as the service takes them."""
        return [
            {key: form.cleaned_data[key] for key in ("date", "seats_up", "labour_seats_up")}
            for form in self.forms
            if form.cleaned_data and not form.cleaned_data.get("DELETE")
        ]


ElectionFormSet = forms.formset_factory(
    ElectionForm, formset=_ElectionFormSetBase, extra=1, can_delete=True, max_num=6
)
