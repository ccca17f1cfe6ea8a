from django.contrib import admin
from django.db import models
from simple_history.admin import SimpleHistoryAdmin

from members.admin import ReadOnlyAdminMixin

from .models import Booking, CalendarFeed, Event, PassApplication, Place, Session, TimeSlot


class SessionInline(admin.TabularInline):
    model = Session
    extra = 0
    fields = ["slot", "track", "title", "speaker", "room", "capacity"]


@admin.register(Event)
class EventAdmin(SimpleHistoryAdmin):
    list_display = ["title", "kind", "starts_at", "region", "is_annual_conference"]
    list_filter = ["kind", "is_annual_conference", "region"]
    search_fields = ["title"]
    filter_horizontal = ["organisers"]
    inlines = [SessionInline]
    # A joining link typed without a scheme is taken to be https.
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}


@admin.register(Session)
class SessionAdmin(SimpleHistoryAdmin):
    list_display = ["title", "event", "slot", "track", "capacity"]
    list_filter = ["event"]
    search_fields = ["title", "speaker"]


@admin.register(TimeSlot)
class TimeSlotAdmin(admin.ModelAdmin):
    list_display = ["event", "starts_at", "ends_at"]
    list_filter = ["event"]


@admin.register(Booking)
class BookingAdmin(SimpleHistoryAdmin):
    """Bookings without the access needs and dietary requirements: only an event's organisers
    read those, on its attendance list."""

    list_display = ["event", "user", "attended", "created_at"]
    list_filter = ["event"]
    search_fields = ["user__email", "user__full_name"]
    exclude = ["access_needs", "dietary_requirements"]
    readonly_fields = ["event", "user", "created_at", "needs_cleared_at"]

    def has_add_permission(self, request):
        # People book through the portal, which gives them places in order.
        return False


class ReadOnlyHistoryAdmin(ReadOnlyAdminMixin, SimpleHistoryAdmin):
    """Rows that change only through the portal, which keeps waiting lists and the cap on
    passes in order and tells people by email: shown here, with their history, never edited."""


@admin.register(Place)
class PlaceAdmin(ReadOnlyHistoryAdmin):
    list_display = ["event", "session", "booking", "status", "requested_at", "offer_expires_at"]
    list_filter = ["status", "event"]


@admin.register(PassApplication)
class PassApplicationAdmin(ReadOnlyHistoryAdmin):
    list_display = ["event", "user", "status", "applied_at", "decided_at"]
    list_filter = ["status", "event"]
    search_fields = ["user__email", "user__full_name"]


@admin.register(CalendarFeed)
class CalendarFeedAdmin(admin.ModelAdmin):
    """Who has a calendar feed, never its key. Deleting one turns it off (its address answers
    404), as its owner can."""

    list_display = ["user", "created_at"]
    search_fields = ["user__email", "user__full_name"]
    exclude = ["key"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
