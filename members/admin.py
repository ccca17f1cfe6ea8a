from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from simple_history.admin import SimpleHistoryAdmin

from .models import Councillor, StaffRole, User


@admin.register(User)
class UserAdmin(SimpleHistoryAdmin, BaseUserAdmin):
    ordering = ["email"]
    list_display = ["email", "full_name", "is_active", "is_staff", "date_joined"]
    search_fields = ["email", "full_name", "preferred_name"]
    list_filter = ["is_active", "is_staff", "is_superuser"]
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        ("Name", {"fields": ["full_name", "preferred_name"]}),
        ("Access", {"fields": ["is_active", "is_staff", "is_superuser", "groups"]}),
        ("Dates", {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [(None, {"classes": ["wide"], "fields": ["email", "password1", "password2"]})]
    readonly_fields = ["last_login", "date_joined"]


@admin.register(StaffRole)
class StaffRoleAdmin(SimpleHistoryAdmin):
    list_display = ["user", "job_title", "since"]
    autocomplete_fields = ["user"]


@admin.register(Councillor)
class CouncillorAdmin(SimpleHistoryAdmin):
    list_display = ["user", "council", "ward", "labour_coop"]
    list_select_related = ["user", "council"]
    search_fields = ["user__full_name", "user__email", "council__name", "ward"]
    autocomplete_fields = ["user", "council"]
