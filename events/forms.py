"""Forms for events: an event, a session, a booking (a session per time slot, with the needs
the organisers should know), decisions on conference passes, and attendance. Choices are
scoped to the person using them, through events.access."""

from django import forms
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db.models.functions import Lower

from alc_portal.dates import BritishDateTimeField
from alc_portal.forms import DescribedFieldsMixin

from .access import may_hold_national_events, regions_for_new_events
from .models import Event, Session


def _needs_help() -> str:
    return (
        "Only the event's organisers see this. It is deleted "
        f"{settings.EVENT_NEEDS_DAYS} days after the event."
    )


class EventForm(DescribedFieldsMixin, forms.ModelForm):
    starts_at = BritishDateTimeField(label="Starts")
    ends_at = BritishDateTimeField(label="Ends")
    booking_opens_at = BritishDateTimeField(label="Booking opens")
    booking_closes_at = BritishDateTimeField(
        label="Booking closes", help_text="At the latest when it starts."
    )
    online_link = forms.URLField(
        label="Online joining link",
        required=False,
        max_length=500,
        assume_scheme="https",
        help_text="Shown only to those booked.",
    )
    organisers = forms.CharField(
        label="Organisers",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Their email addresses, one a line. They see the attendance list and the "
        "access needs people give. You are added when you create it.",
    )

    class Meta:
        model = Event
        fields = [
            "title",
            "kind",
            "description",
            "starts_at",
            "ends_at",
            "venue",
            "online_link",
            "region",
            "capacity",
            "booking_opens_at",
            "booking_closes_at",
            "is_annual_conference",
            "pass_capacity",
        ]
        widgets = {"description": forms.Textarea(attrs={"rows": 6})}
        labels = {"capacity": "Places", "pass_capacity": "Passes"}
        help_texts = {
            "capacity": "For an event without sessions (each session has its own). "
            "Blank: no limit.",
            "pass_capacity": "How many passes may be approved; blank for no limit.",
        }

    def __init__(self, *args, user, **kwargs):
        instance = kwargs.get("instance")
        if instance is not None and instance.pk:
            emails = sorted(instance.organisers.values_list("email", flat=True))
            kwargs.setdefault("initial", {})["organisers"] = "\n".join(emails)
        super().__init__(*args, **kwargs)
        self.user = user
        region = self.fields["region"]
        region.queryset = regions_for_new_events(user).order_by("name")
        if may_hold_national_events(user):
            region.empty_label = "National: every region"
            region.help_text = "Whose councillors may book it."
        else:
            region.required = True
            region.help_text = "One of the regions you represent."
            del self.fields["is_annual_conference"]
            del self.fields["pass_capacity"]

    def clean_organisers(self):
        text = self.cleaned_data["organisers"].replace(",", " ").replace(";", " ")
        emails = {address.strip().lower() for address in text.split() if address}
        users = list(
            get_user_model()
            .objects.annotate(address=Lower("email"))
            .filter(address__in=emails, is_active=True)
        )
        unknown = emails - {u.address for u in users}
        if unknown:
            raise ValidationError(
                f"No one on the portal has the address {', '.join(sorted(unknown))}."
            )
        return users

    def clean(self):
        data = super().clean()
        starts, ends = data.get("starts_at"), data.get("ends_at")
        opens, closes = data.get("booking_opens_at"), data.get("booking_closes_at")
        if starts and ends and ends <= starts:
            self.add_error("ends_at", "It must end after it starts.")
        if opens and closes and closes <= opens:
            self.add_error("booking_closes_at", "Booking must close after it opens.")
        if closes and starts and closes > starts:
            self.add_error("booking_closes_at", "Booking must close by the time it starts.")
        return data


class SessionForm(DescribedFieldsMixin, forms.ModelForm):
    starts_at = BritishDateTimeField(label="Starts")
    ends_at = BritishDateTimeField(
        label="Ends", help_text="Sessions with the same times share a time slot."
    )

    class Meta:
        model = Session
        fields = ["title", "track", "speaker", "room", "capacity"]
        labels = {"capacity": "Places"}

    field_order = ["title", "starts_at", "ends_at", "track", "speaker", "room", "capacity"]

    def __init__(self, *args, event, **kwargs):
        instance = kwargs.get("instance")
        if instance is not None and instance.pk:
            kwargs.setdefault("initial", {}).update(
                starts_at=instance.slot.starts_at, ends_at=instance.slot.ends_at
            )
        super().__init__(*args, **kwargs)
        self.event = event
        self.fields["capacity"].min_value = 1
        self.fields["capacity"].widget.attrs["min"] = 1

    def clean(self):
        data = super().clean()
        starts, ends = data.get("starts_at"), data.get("ends_at")
        if starts and ends:
            if ends <= starts:
                self.add_error("ends_at", "It must end after it starts.")
            elif starts < self.event.starts_at or ends > self.event.ends_at:
                self.add_error("starts_at", "A session must fall within the event's times.")
        return data


def _session_label(session, mine=None) -> str:
    where = ", ".join(part for part in (session.speaker, session.room) if part)
    label = f"{session.title}" + (f" ({session.track})" if session.track else "")
    label += f": {where}" if where else ""
    if mine is not None and mine.is_booked:
        return f"{label}. Your place"
    if mine is not None:
        return f"{label}. You are on its waiting list"
    if session.left:
        return f"{label}. {session.left} place{'s' if session.left != 1 else ''} left"
    return f"{label}. Full: choosing it puts you on its waiting list"


class BookingForm(DescribedFieldsMixin, forms.Form):
    """A booking: for an event with sessions, a choice in each time slot (one session or
    none); and the needs the organisers should know of."""

    access_needs = forms.CharField(
        label="Access needs",
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    dietary_requirements = forms.CharField(
        label="Dietary requirements",
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args, slots=(), places=(), **kwargs):
        super().__init__(*args, **kwargs)
        mine = {p.session_id: p for p in places if p.session_id}
        self.slot_fields = []
        for row in slots:
            name = f"slot_{row.slot.pk}"
            choices = [(s.pk, _session_label(s, mine.get(s.pk))) for s in row.sessions]
            held = [s.pk for s in row.sessions if s.pk in mine]
            self.fields[name] = forms.TypedChoiceField(
                label=row.slot.label,
                coerce=int,
                empty_value=None,
                required=False,
                choices=[("", "No session"), *choices],
                widget=forms.RadioSelect,
                initial=held[0] if held else "",
            )
            self.slot_fields.append(name)
        for name in ("access_needs", "dietary_requirements"):
            self.fields[name].help_text = _needs_help()
        # The slots first, then the needs.
        self.order_fields([*self.slot_fields, "access_needs", "dietary_requirements"])

    def session_ids(self) -> list[int]:
        return [self.cleaned_data[name] for name in self.slot_fields if self.cleaned_data[name]]

    def slot_bound_fields(self):
        return [self[name] for name in self.slot_fields]


class PassDecisionForm(DescribedFieldsMixin, forms.Form):
    APPROVE, REFUSE = "approve", "refuse"

    applications = forms.ModelMultipleChoiceField(
        queryset=None,
        error_messages={"required": "Tick at least one application."},
        widget=forms.CheckboxSelectMultiple,
    )
    decision = forms.ChoiceField(
        choices=[(APPROVE, "Approve"), (REFUSE, "Refuse")], widget=forms.RadioSelect
    )
    reason = forms.CharField(
        label="Reason for refusing",
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Sent to each person refused.",
    )

    def __init__(self, *args, event, **kwargs):
        super().__init__(*args, **kwargs)
        # Any of the conference's: one decided meanwhile (in another tab) is left as it is.
        self.fields["applications"].queryset = event.pass_applications.order_by("applied_at", "pk")

    def clean(self):
        data = super().clean()
        if data.get("decision") == self.REFUSE and not (data.get("reason") or "").strip():
            self.add_error("reason", "Give a reason for refusing.")
        return data


class AttendanceForm(forms.Form):
    attended = forms.ChoiceField(
        choices=[("yes", "Attended"), ("no", "Did not attend"), ("", "Not known")], required=False
    )

    def value(self) -> bool | None:
        return {"yes": True, "no": False}.get(self.cleaned_data["attended"])
