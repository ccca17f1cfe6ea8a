"""Forms a councillor fills in about themselves, and the forms staff and representatives use to
decide on their requests."""

import re
import unicodedata

from django import forms
from django.utils import timezone

from alc_portal import validators
from alc_portal.dates import BritishDateField
from alc_portal.forms import DescribedFieldsMixin
from members import imports
from members.models import Councillor, Position, User
from regions.models import Council


def phone_validate(value: str, *, stored: str | None = None) -> str:
    # The one phone rule, shared with the import and the representatives' and groups' forms.
    return validators.phone_validate(value, stored=stored)


def name_validate(value: str) -> str:
    # The one rule for names, shared with the import, the join form and the representatives'
    # forms: a name one of them saves must not be refused by another, or by a re-import.
    return imports.clean_person_name(value, required=False)


def term_ends_latest():
    # Terms are four or five years; ten leaves room for a postponed election, not a typo.
    return validators.years_from_today(10)


# The start of an HTML tag, comment or processing instruction; "<3" and "x < y" are fine.
MARKUP_START = re.compile(r"<\s*[A-Za-z/!?]")


def plain_text_validate(value: str) -> str:
    """Text of several lines (a bio, say) refused if it holds HTML or control characters."""
    if MARKUP_START.search(value):
        raise forms.ValidationError(
            "Use plain text: remove the HTML tags (such as <b> or <a>).", code="markup"
        )
    if any(unicodedata.category(ch) == "Cc" and ch not in "\n\r\t" for ch in value):
        raise forms.ValidationError(
            "Use plain text: remove the control characters (invisible characters such as "
            "those pasted from some documents).",
            code="control",
        )
    return value


class CouncilChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return obj.name


class ProfileForm(DescribedFieldsMixin, forms.Form):
    full_name = forms.CharField(max_length=150)
    preferred_name = forms.CharField(
        max_length=80, required=False, help_text="What people call you, if not your first name."
    )
    council = CouncilChoiceField(
        queryset=Council.objects.none(),
        help_text="A change of council or ward waits for your regional representative's approval.",
    )
    ward = forms.CharField(
        label="Ward or division",
        max_length=imports.WARD_MAX,
        error_messages={"required": "Enter the ward (or division) you represent."},
    )
    first_elected = BritishDateField(required=False)
    term_ends = BritishDateField(required=False, help_text="No more than ten years ahead.")
    labour_coop = forms.TypedChoiceField(
        label="Are you a Labour & Co-operative councillor?",
        choices=[("no", "No"), ("yes", "Yes")],
        coerce=lambda v: v == "yes",
        widget=forms.RadioSelect,
    )
    phone = forms.CharField(
        max_length=30,
        required=False,
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"}),
        help_text="Digits, spaces and + ( ) - only, for example 020 7946 0000.",
    )
    bio = forms.CharField(
        label="Short public bio",
        max_length=1000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text="Plain text, up to 1,000 characters.",
    )
    wants_campaign_mailings = forms.BooleanField(label="Campaign mailings", required=False)
    wants_regional_news = forms.BooleanField(label="Regional news", required=False)
    wants_training_events = forms.BooleanField(label="Training and events", required=False)

    def __init__(self, *args, councillor: Councillor, **kwargs):
        super().__init__(*args, **kwargs)
        councils = Council.objects.current()
        # A council that has since been abolished stays choosable for whoever still has it.
        self.fields["council"].queryset = (
            councils | Council.objects.filter(pk=councillor.council_id)
        ).order_by("name")
        self.fields["full_name"].widget.attrs["autocomplete"] = "name"
        if validators.phone_needs_correcting(self.initial.get("phone")):
            self.fields["phone"].help_text = validators.PHONE_STORED_MESSAGE
        if councillor.left_on is not None:
            # Someone who has left keeps their last council and ward on record; they may still
            # correct everything else.
            for name in ("council", "ward"):
                self.fields[name].disabled = True
                self.fields[name].help_text = "You are no longer a councillor, so this stays."

    def clean_full_name(self):
        return name_validate(self.cleaned_data["full_name"])

    def clean_preferred_name(self):
        return name_validate(self.cleaned_data["preferred_name"])

    def clean_ward(self):
        # The same rules as the join form, the import and the representatives' forms, which all
        # require a ward: a councillor must not save one that those would then refuse.
        return imports.clean_ward(self.cleaned_data["ward"])

    def clean_first_elected(self):
        return validators.date_validate(
            self.cleaned_data["first_elected"], latest=timezone.localdate()
        )

    def clean_term_ends(self):
        return validators.date_validate(self.cleaned_data["term_ends"], latest=term_ends_latest())

    def clean_phone(self):
        # A saved number that predates the rule is kept if sent back unchanged: it must not stop
        # the councillor saving anything else (the field's help text asks them to correct it).
        return phone_validate(self.cleaned_data["phone"], stored=self.initial.get("phone"))

    def clean_bio(self):
        return plain_text_validate(self.cleaned_data["bio"].strip())

    def clean(self):
        cleaned = super().clean()
        first, ends = cleaned.get("first_elected"), cleaned.get("term_ends")
        if first and ends and ends < first:
            self.add_error("term_ends", "Your term cannot end before you were first elected.")
        return cleaned

    @staticmethod
    def initial_for(councillor: Councillor, pending=None) -> dict:
        user: User = councillor.user
        return {
            "full_name": user.full_name,
            "preferred_name": user.preferred_name,
            "council": pending.council_id if pending else councillor.council_id,
            "ward": pending.ward if pending else councillor.ward,
            "first_elected": councillor.first_elected,
            "term_ends": councillor.term_ends,
            "labour_coop": "yes" if councillor.labour_coop else "no",
            "phone": councillor.phone,
            "bio": councillor.bio,
            "wants_campaign_mailings": councillor.wants_campaign_mailings,
            "wants_regional_news": councillor.wants_regional_news,
            "wants_training_events": councillor.wants_training_events,
        }


class PositionForm(DescribedFieldsMixin, forms.ModelForm):
    class Meta:
        model = Position
        fields = ["title", "start_date"]
        labels = {"title": "Position", "start_date": "Since"}
        field_classes = {"start_date": BritishDateField}
        help_texts = {"title": "For example: leader, cabinet member for housing, group whip."}

    def clean_title(self):
        return name_validate(self.cleaned_data["title"])

    def clean_start_date(self):
        return validators.date_validate(
            self.cleaned_data["start_date"], latest=timezone.localdate()
        )


class _PositionFormSetBase(forms.BaseInlineFormSet):
    def positions(self) -> list[dict]:
        """The positions kept, as profile_update takes them (those without an id are new)."""
        return [
            {
                "id": form.instance.pk,
                "title": form.cleaned_data["title"],
                "start_date": form.cleaned_data.get("start_date"),
            }
            for form in self.forms
            if form.cleaned_data and not form.cleaned_data.get("DELETE")
        ]


PositionFormSet = forms.inlineformset_factory(
    Councillor,
    Position,
    form=PositionForm,
    formset=_PositionFormSetBase,
    extra=1,
    max_num=20,
    validate_max=True,
    can_delete=True,
)


class LevyWaiverForm(DescribedFieldsMixin, forms.Form):
    DECLARATION = (
        "I declare that my income is below the association's threshold and the information "
        "I have given is true"
    )

    year = forms.IntegerField(
        help_text="This year, last year or next year.",
        error_messages={
            "invalid": "Enter the year as four digits, for example 2026.",
            "required": "Choose the year you are applying for.",
        },
        widget=forms.RadioSelect,
    )
    circumstances = forms.CharField(
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text="Tell us briefly why you are asking for a waiver (up to 2,000 characters).",
    )
    declaration = forms.BooleanField(
        label=DECLARATION,
        error_messages={"required": "Tick the declaration to apply."},
    )

    def __init__(self, *args, taken_years=(), **kwargs):
        """`taken_years`: the years the councillor has an application for that is waiting or
        approved. Only the other years are offered; this year is chosen if it is one of them."""
        this_year = timezone.localdate().year
        self.taken_years = set(taken_years)
        self.open_years = [
            year for year in (this_year - 1, this_year, this_year + 1) if year not in taken_years
        ]
        preferred = [y for y in (this_year, this_year + 1, this_year - 1) if y in self.open_years]
        kwargs.setdefault("initial", {"year": preferred[0] if preferred else None})
        super().__init__(*args, **kwargs)
        labels = {this_year - 1: "last year", this_year: "this year", this_year + 1: "next year"}
        self.fields["year"].widget.choices = [
            (year, f"{year} ({labels[year]})") for year in self.open_years
        ]
        if self.taken_years:
            taken = ", ".join(str(year) for year in sorted(self.taken_years))
            self.fields[
                "year"
            ].help_text += f" Years you have already applied for ({taken}) are not listed."

    def clean_year(self):
        year, this_year = self.cleaned_data["year"], timezone.localdate().year
        if not this_year - 1 <= year <= this_year + 1:
            raise forms.ValidationError(
                f"Apply for this year, last year or next year ({this_year - 1} to "
                f"{this_year + 1}).",
                code="implausible",
            )
        if year in self.taken_years:
            raise forms.ValidationError(
                f"You already have a levy waiver application for {year}. "
                "You can apply again only if that one is refused.",
                code="taken",
            )
        return year

    def clean_circumstances(self):
        return self.cleaned_data["circumstances"].strip()


class DecisionForm(DescribedFieldsMixin, forms.Form):
    """Approve or refuse a request. A refusal needs a reason the applicant will read."""

    decision = forms.ChoiceField(
        choices=[("approved", "Approve"), ("refused", "Refuse")], widget=forms.RadioSelect
    )
    reason = forms.CharField(
        max_length=1000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="The person will see this.",
    )

    def __init__(self, *args, reason_required_to_refuse=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.reason_required_to_refuse = reason_required_to_refuse
        if reason_required_to_refuse:
            # Not "(optional)": an approval needs none, a refusal does.
            self.fields["reason"].label = "Reason (required to refuse)"
            self.fields["reason"].help_text = "The person will see this."

    def clean(self):
        cleaned = super().clean()
        if (
            self.reason_required_to_refuse
            and cleaned.get("decision") == "refused"
            and not cleaned.get("reason", "").strip()
        ):
            self.add_error("reason", "Give a reason for refusing.")
        return cleaned


class ErasureRequestForm(DescribedFieldsMixin, forms.Form):
    confirm = forms.BooleanField(
        label="I understand that my account will be closed and my personal data erased",
        error_messages={"required": "Tick the box to confirm that you want your data erased."},
    )


PREFER_NOT = ("prefer_not_to_say", "Prefer not to say")
EQUALITY_QUESTIONS = {
    "age_band": (
        "Age",
        [("18_29", "18 to 29"), ("30_44", "30 to 44"), ("45_59", "45 to 59"),
         ("60_74", "60 to 74"), ("75_plus", "75 or over")],
    ),
    "gender": (
        "Gender",
        [("woman", "Woman"), ("man", "Man"), ("non_binary", "Non-binary"),
         ("self_described", "In another way")],
    ),
    "ethnicity": (
        "Ethnic group",
        [("asian", "Asian or Asian British"),
         ("black", "Black, Black British, Caribbean or African"),
         ("mixed", "Mixed or multiple ethnic groups"), ("white", "White"),
         ("other", "Another ethnic group")],
    ),
    "disability": (
        "Do you consider yourself to be disabled?",
        [("yes", "Yes"), ("no", "No")],
    ),
    "sexual_orientation": (
        "Sexual orientation",
        [("bisexual", "Bisexual"), ("gay_lesbian", "Gay or lesbian"),
         ("heterosexual", "Heterosexual or straight"), ("other", "Another orientation")],
    ),
}  # fmt: skip


class EqualityMonitoringForm(DescribedFieldsMixin, forms.Form):
    consent = forms.BooleanField(
        label=(
            "I agree that the association may keep these answers to monitor the diversity of "
            "its members. Only I and authorised national office staff can see them, and I can "
            "withdraw them at any time."
        ),
        error_messages={"required": "Tick the consent box to save your answers."},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for key, (label, choices) in EQUALITY_QUESTIONS.items():
            self.fields[key] = forms.ChoiceField(
                label=label,
                required=False,
                choices=[("", "Not answered"), *choices, PREFER_NOT],
            )
        # Consent last, after the questions it covers.
        self.fields["consent"] = self.fields.pop("consent")

    def answers(self) -> dict:
        return {key: self.cleaned_data[key] for key in EQUALITY_QUESTIONS if self.cleaned_data[key]}


def equality_answer_labels(answers: dict) -> list[tuple[str, str]]:
    """(question, answer) pairs in the form's order, for showing a person their answers."""
    rows = []
    for key, (label, choices) in EQUALITY_QUESTIONS.items():
        value = answers.get(key)
        if value:
            rows.append((label, dict([*choices, PREFER_NOT]).get(value, value)))
    return rows
