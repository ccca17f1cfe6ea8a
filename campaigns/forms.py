"""Forms for campaigns, for composing and sending mailings, and for the suppression list.
Querysets are scoped to the person using them, so a representative can't name another region's
id in a POST."""

import re
import unicodedata
from pathlib import Path

from django import forms
from django.core.exceptions import ValidationError
from django.template.defaultfilters import filesizeformat
from django.utils import timezone

from alc_portal.dates import BritishDateField, BritishDateTimeField
from alc_portal.forms import DescribedFieldsMixin
from events.access import events_managed_by
from regions.access import groups_visible_to, regions_managed_by
from regions.control import CONTROL_CHOICES, LEGACY_CONTROL_CHOICES, LEGACY_CONTROL_CODES
from regions.models import Council

from .access import campaigns_visible_to, is_staff
from .models import RATE_LIMIT_MAX, Adoption, Campaign, CampaignResource, EventAudience, Mailing
from .rendering import MERGE_FIELD_LIST, template_errors
from .services.content import (
    ADOPTED_IN_FUTURE_MESSAGE,
    adoption_exists_message,
    campaign_title_taken,
    campaign_title_taken_message,
)
from .services.lifecycle import RETRY_ALL, RETRY_TEMPORARY

RESOURCE_MAX_BYTES = 10 * 1024 * 1024
# Characters kept of an uploaded file's name before its suffix (the column holds 100 with the
# "campaigns/resources/<year>/" folder and room for the "_abc1234" added to a repeated name).
RESOURCE_NAME_CHARACTERS = 50
# Allowed upload types and the first bytes a genuine file of that type starts with.
RESOURCE_TYPES = {
    ".pdf": (b"%PDF-",),
    ".docx": (b"PK\x03\x04",),
    ".xlsx": (b"PK\x03\x04",),
    ".pptx": (b"PK\x03\x04",),
    ".odt": (b"PK\x03\x04",),
    ".png": (b"\x89PNG\r\n\x1a\n",),
    ".jpg": (b"\xff\xd8\xff",),
    ".jpeg": (b"\xff\xd8\xff",),
}
RATE_LIMIT_MESSAGE = (
    f"Enter a number of messages per second greater than 0 and at most {RATE_LIMIT_MAX:,},"
    " such as 20 or 0.5, or leave it blank."
)


def resource_file_name(name: str) -> str:
    """A stored file's name: letters, digits, dashes, underscores and dots only (no folders,
    no spaces, no markup), short enough to fit the database column with its folder, and
    ending in the lower-case suffix that was checked."""
    path = Path(name.replace("\\", "/").split("/")[-1])
    stem = re.sub(r"[^\w.-]+", "_", path.stem).strip("._-")[:RESOURCE_NAME_CHARACTERS]
    return f"{stem or 'file'}{path.suffix.lower()}"


class CampaignForm(DescribedFieldsMixin, forms.ModelForm):
    class Meta:
        model = Campaign
        fields = ["title", "summary", "body"]
        widgets = {"summary": forms.Textarea(attrs={"rows": 3}), "body": forms.Textarea}
        help_texts = {
            "body": "Markdown: **bold**, _italic_, [a link](https://example.org), lists with - ."
        }

    def clean_title(self):
        title = self.cleaned_data["title"]
        if campaign_title_taken(title, exclude_pk=self.instance.pk):
            raise ValidationError(campaign_title_taken_message(title))
        return title


class ResourceForm(DescribedFieldsMixin, forms.ModelForm):
    class Meta:
        model = CampaignResource
        fields = ["title", "url", "file"]
        labels = {"url": "Link (web address)", "file": "Or upload a file"}
        help_texts = {
            "file": "PDF, Word (.docx), Excel (.xlsx), PowerPoint (.pptx), OpenDocument (.odt), "
            f"PNG or JPEG; at most {filesizeformat(RESOURCE_MAX_BYTES)}."
        }

    # A web address typed without a scheme is taken to be https.
    url = forms.URLField(label="Link (web address)", required=False, assume_scheme="https")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # A long file name is shortened below rather than refused.
        self.fields["file"].max_length = None

    def clean_file(self):
        upload = self.cleaned_data.get("file")
        if not upload:
            return upload
        suffix = Path(upload.name).suffix.lower()
        if suffix not in RESOURCE_TYPES:
            raise ValidationError(
                "This type of file can't be uploaded. Use PDF, .docx, .xlsx, .pptx, .odt, "
                "PNG or JPEG."
            )
        if upload.size > RESOURCE_MAX_BYTES:
            raise ValidationError(
                f"The file is {filesizeformat(upload.size)}; the limit is "
                f"{filesizeformat(RESOURCE_MAX_BYTES)}."
            )
        head = upload.read(16)
        upload.seek(0)
        if not head.startswith(RESOURCE_TYPES[suffix]):
            raise ValidationError(f"The file's contents are not a {suffix} file.")
        upload.name = resource_file_name(upload.name)
        return upload

    def clean(self):
        cleaned = super().clean()
        if not self.errors and not cleaned.get("url") and not cleaned.get("file"):
            raise ValidationError("Give a link or upload a file.")
        if cleaned.get("url") and cleaned.get("file"):
            raise ValidationError("Give a link or upload a file, not both.")
        return cleaned


class AdoptionForm(DescribedFieldsMixin, forms.ModelForm):
    class Meta:
        model = Adoption
        fields = ["council", "adopted_on"]
        field_classes = {"adopted_on": BritishDateField}
        labels = {"adopted_on": "Adopted on"}

    def __init__(self, *args, campaign, **kwargs):
        super().__init__(*args, **kwargs)
        self.campaign = campaign
        self.fields["council"].queryset = Council.objects.current().order_by("short_name")

    def clean_council(self):
        council = self.cleaned_data["council"]
        if Adoption.objects.filter(campaign=self.campaign, council=council).exists():
            raise ValidationError(adoption_exists_message(council))
        return council

    def clean_adopted_on(self):
        adopted_on = self.cleaned_data["adopted_on"]
        if adopted_on > timezone.localdate():
            raise ValidationError(ADOPTED_IN_FUTURE_MESSAGE)
        return adopted_on


class ControlField(forms.MultipleChoiceField):
    """The control choices; a rule saved with the earlier party codes stays valid as it is."""

    def valid_value(self, value):
        return value in LEGACY_CONTROL_CODES or super().valid_value(value)


NO_REGION_MESSAGE = (
    "Choose who this goes to: tick the regions, or tick “Every region”. Nothing ticked does not "
    "mean everyone."
)


class AudienceForm(DescribedFieldsMixin, forms.Form):
    """The audience rule of a mailing. Used on its own for the live count."""

    regions = forms.ModelMultipleChoiceField(
        queryset=None,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Tick the regions to write to, or choose every region below.",
    )
    # Writing to every region is a choice of its own, never what nothing ticked means.
    all_regions = forms.BooleanField(label="Every region", required=False)
    council_kinds = forms.MultipleChoiceField(
        label="Council types",
        choices=Council.Kind.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="None ticked: every type.",
    )
    controls = ControlField(
        label="Control",
        choices=CONTROL_CHOICES,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Councils under any kind of control ticked. None ticked: any control.",
    )
    election_date = BritishDateField(label="Only councils with an election on", required=False)
    recipients = forms.MultipleChoiceField(
        label="Send to",
        choices=Mailing.Recipients.choices,
        widget=forms.CheckboxSelectMultiple,
        # Required unless the mailing goes to people by their booking on an event (clean).
        required=False,
    )
    fall_back_to_contact = forms.BooleanField(
        label="When the leader's or secretary's office is vacant, use the group contact address",
        required=False,
    )
    event_audience = forms.ChoiceField(
        label="Or send to people by their booking on an event",
        choices=[("", "No: send to the groups' addresses ticked above"), *EventAudience.choices],
        required=False,
        widget=forms.RadioSelect,
        help_text="Councillors of the regions chosen above; the council type, control and "
        "election choices are then not used.",
    )
    event = forms.ModelChoiceField(
        label="The event", queryset=None, required=False, empty_label="Choose an event"
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["regions"].queryset = regions_managed_by(user).order_by("name")
        self.fields["event"].queryset = (
            events_managed_by(user).select_related("region").order_by("-starts_at", "pk")
        )
        # Earlier party codes in the rule being shown or sent are offered as boxes of their own.
        chosen = set(self.initial.get("controls") or ())
        if self.is_bound:
            chosen.update(self.data.getlist("controls") if hasattr(self.data, "getlist") else ())
        legacy = [(code, label) for code, label in LEGACY_CONTROL_CHOICES if code in chosen]
        if legacy:
            self.fields["controls"].choices = [*CONTROL_CHOICES, *legacy]
        if not is_staff(user):
            self.fields["regions"].help_text = "Your region. Tick exactly one."
            del self.fields["all_regions"]
        else:
            groups = groups_visible_to(user).filter(council__in=Council.objects.current()).count()
            self.fields["all_regions"].label = f"Every region (all {groups:,} Labour groups)"

    def clean_regions(self):
        regions = list(self.cleaned_data["regions"])
        if is_staff(self.user):
            return regions
        own = list(self.fields["regions"].queryset)
        if not regions and len(own) == 1:
            regions = own
        if len(regions) != 1:
            raise ValidationError("Tick exactly one of your regions.")
        return regions

    def clean(self):
        cleaned = super().clean()
        if "all_regions" in self.fields and "regions" not in self.errors:
            if cleaned.get("regions") and cleaned.get("all_regions"):
                self.add_error("all_regions", "Tick “Every region” or some regions, not both.")
            elif not cleaned.get("regions") and not cleaned.get("all_regions"):
                self.add_error("regions", NO_REGION_MESSAGE)
        audience, event = cleaned.get("event_audience"), cleaned.get("event")
        if audience and event is None and "event" not in self.errors:
            self.add_error("event", "Choose the event.")
        if not audience:
            cleaned["event"] = None
            if not cleaned.get("recipients") and "recipients" not in self.errors:
                self.add_error("recipients", "Tick at least one kind of recipient.")
        return cleaned

    def rule(self) -> dict:
        """The cleaned rule as keyword arguments for audience_resolve_rule."""
        data = self.cleaned_data
        event = data.get("event")
        return {
            "region_ids": [r.pk for r in data["regions"]],
            "council_kinds": data["council_kinds"],
            "controls": data["controls"],
            "election_date": data["election_date"],
            "recipients": data["recipients"],
            "fall_back_to_contact": data["fall_back_to_contact"],
            "event_id": event.pk if event else None,
            "event_audience": data.get("event_audience") or "",
        }


FROM_NAME_MESSAGE = "The name can't contain line breaks, tabs or other control characters."


def has_control_characters(text: str) -> bool:
    """Line breaks of any kind (CR, LF, NEL, the Unicode line and paragraph separators), tabs
    and other control characters: none of them belongs in an email header."""
    return any(unicodedata.category(char) in ("Cc", "Zl", "Zp") for char in text)


class MailingForm(AudienceForm, forms.ModelForm):
    class Meta:
        model = Mailing
        fields = ["campaign", "subject", "from_name", "reply_to", "body", "rate_limit"]
        labels = {"from_name": "From (name)", "reply_to": "Reply-to address"}
        widgets = {"body": forms.Textarea(attrs={"rows": 14})}

    # Staff only (removed for representatives below). A text box rather than type="number", so
    # that whatever is typed reaches the server and gets a clear message if it is not a number.
    rate_limit = forms.FloatField(
        label="Messages per second",
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
        error_messages={"invalid": RATE_LIMIT_MESSAGE},
        help_text="At most this many messages a second for this mailing, across all workers. "
        "Blank: the portal's usual rate.",
    )

    field_order = [
        "campaign",
        "subject",
        "from_name",
        "reply_to",
        "body",
        "regions",
        "council_kinds",
        "controls",
        "election_date",
        "recipients",
        "fall_back_to_contact",
        "event_audience",
        "event",
        "rate_limit",
    ]

    def __init__(self, *args, user, **kwargs):
        instance = kwargs.get("instance")
        if instance is not None and instance.pk and "initial" not in kwargs:
            regions = list(instance.regions.all())
            kwargs["initial"] = {
                "regions": regions,
                "all_regions": not regions,
                "council_kinds": instance.council_kinds,
                "controls": instance.controls,
                "election_date": instance.election_date,
                "recipients": instance.recipients,
                "fall_back_to_contact": instance.fall_back_to_contact,
                "event_audience": instance.event_audience,
                "event": instance.event_id,
            }
        elif instance is None:
            kwargs.setdefault(
                "initial",
                {"recipients": [Mailing.Recipients.CONTACT], "fall_back_to_contact": True},
            )
        super().__init__(*args, user=user, **kwargs)
        self.fields["campaign"].queryset = campaigns_visible_to(user)
        self.fields["campaign"].required = False
        self.fields["body"].help_text = "Markdown. Merge fields: " + MERGE_FIELD_LIST
        if not is_staff(user):
            # How fast the national office sends is theirs to decide.
            del self.fields["rate_limit"]

    def clean_from_name(self):
        # It goes into the From header of every message: a line break there would let a
        # crafted name add headers, and Python's mail code refuses it outright.
        name = self.cleaned_data["from_name"]
        if has_control_characters(name):
            raise ValidationError(FROM_NAME_MESSAGE)
        return name

    def clean_reply_to(self):
        address = self.cleaned_data["reply_to"]
        if has_control_characters(address):
            raise ValidationError("Enter a valid email address.")
        return address

    def clean_rate_limit(self):
        rate = self.cleaned_data.get("rate_limit")
        if rate is not None and not 0 < rate <= RATE_LIMIT_MAX:
            raise ValidationError(RATE_LIMIT_MESSAGE)
        return rate

    def clean(self):
        cleaned = super().clean()
        subject = cleaned.get("subject")
        body = cleaned.get("body")
        if subject is not None and body is not None:
            for message in template_errors(subject, body):
                field = "subject" if message.startswith("Subject") else "body"
                self.add_error(field, message)
        return cleaned


class ScheduleForm(DescribedFieldsMixin, forms.Form):
    when = BritishDateTimeField(label="Send at")

    def clean_when(self):
        when = self.cleaned_data["when"]
        if when <= timezone.now():
            raise ValidationError("Choose a time in the future.")
        return when


class ResendForm(DescribedFieldsMixin, forms.Form):
    kind = forms.ChoiceField(
        label="Which failed addresses",
        choices=[
            (RETRY_TEMPORARY, "Temporary failures only (the server said try later)"),
            (RETRY_ALL, "All failures, refused addresses included"),
        ],
        initial=RETRY_TEMPORARY,
        widget=forms.RadioSelect,
    )


class SuppressionForm(DescribedFieldsMixin, forms.Form):
    email = forms.EmailField(max_length=254)
    note = forms.CharField(max_length=500, required=False, label="Reason")


class SearchText(forms.CharField):
    """Free text typed into a search box. Control and other unprintable characters (NUL among
    them, which the database refuses) are dropped and runs of spaces closed up before the
    length is checked."""

    def to_python(self, value):
        value = super().to_python(value)
        return " ".join("".join(c for c in value if c.isprintable() or c.isspace()).split())

    def bound_data(self, data, initial):
        # The box shows the text as it was searched for.
        return self.to_python(data)


class SuppressionSearchForm(DescribedFieldsMixin, forms.Form):
    q = SearchText(
        label="Search addresses",
        max_length=254,
        required=False,
        widget=forms.TextInput(attrs={"type": "search"}),
    )
