from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from .models import (
    Council,
    CouncilGroup,
    Election,
    GroupOfficer,
    Region,
    RegionalRepresentative,
)


@admin.register(Region)
class RegionAdmin(admin.ModelAdmin):
    list_display = ["name", "slug"]
    search_fields = ["name"]


class ElectionInline(admin.TabularInline):
    model = Election
    extra = 0


@admin.register(Council)
class CouncilAdmin(admin.ModelAdmin):
    list_display = ["name", "gss_code", "kind", "region", "total_seats", "labour_seats", "control"]
    list_filter = ["region", "kind", "election_pattern"]
    list_select_related = ["region"]
    search_fields = ["name", "short_name", "gss_code"]
    inlines = [ElectionInline]


@admin.register(CouncilGroup)
class CouncilGroupAdmin(SimpleHistoryAdmin):
    list_display = ["name", "council", "contact_email", "phone"]
    list_select_related = ["council"]
    search_fields = ["name", "council__name"]
    autocomplete_fields = ["council"]


@admin.register(RegionalRepresentative)
class RegionalRepresentativeAdmin(SimpleHistoryAdmin):
    list_display = ["user", "region", "start_date", "end_date"]
    list_filter = ["region"]
    list_select_related = ["user", "region"]
    autocomplete_fields = ["user"]


@admin.register(GroupOfficer)
class GroupOfficerAdmin(SimpleHistoryAdmin):
    list_display = ["group", "role", "user", "start_date", "end_date"]
    list_filter = ["role", "group__council__region"]
    list_select_related = ["group", "user"]
    search_fields = ["group__name", "user__full_name", "user__email"]
    autocomplete_fields = ["group", "user"]


@admin.register(Election)
class ElectionAdmin(admin.ModelAdmin):
    list_display = ["council", "date", "seats_up", "labour_seats_up"]
    list_filter = ["date"]
    list_select_related = ["council"]
    search_fields = ["council__name"]
