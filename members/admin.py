from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from simple_history.admin import SimpleHistoryAdmin

from .models import (
    Councillor,
    CouncillorImport,
    EqualityMonitoring,
    ErasureRequest,
    JoinRequest,
    LevyWaiver,
    Position,
    ProfileChange,
    StaffRole,
    User,
)


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


class PositionInline(admin.TabularInline):
    model = Position
    extra = 0


@admin.register(Councillor)
class CouncillorAdmin(SimpleHistoryAdmin):
    inlines = [PositionInline]
    list_display = ["user", "council", "ward", "labour_coop"]
    list_select_related = ["user", "council"]
    search_fields = ["user__full_name", "user__email", "council__name", "ward"]
    autocomplete_fields = ["user", "council"]


@admin.register(ProfileChange)
class ProfileChangeAdmin(SimpleHistoryAdmin):
    list_display = ["councillor", "council", "ward", "status", "requested_at", "decided_by"]
    list_filter = ["status", "council__region"]
    list_select_related = ["councillor__user", "council", "decided_by"]
    search_fields = ["councillor__user__full_name", "councillor__user__email", "ward"]
    autocomplete_fields = ["councillor", "council", "decided_by"]


@admin.register(LevyWaiver)
class LevyWaiverAdmin(SimpleHistoryAdmin):
    list_display = ["councillor", "year", "status", "applied_at", "decided_by"]
    list_filter = ["status", "year"]
    list_select_related = ["councillor__user", "decided_by"]
    search_fields = ["councillor__user__full_name", "councillor__user__email"]
    autocomplete_fields = ["councillor", "decided_by"]


@admin.register(ErasureRequest)
class ErasureRequestAdmin(admin.ModelAdmin):
    """Carry erasures out from the Decisions pages, which erase everything in one go."""

    list_display = ["pk", "user", "status", "requested_at", "decided_by"]
    list_filter = ["status"]
    list_select_related = ["user", "decided_by"]
    readonly_fields = ["user", "requested_at", "status", "decided_by", "decided_at", "reason"]

    def has_add_permission(self, request):
        return False


@admin.register(EqualityMonitoring)
class EqualityMonitoringAdmin(admin.ModelAdmin):
    """Read-only, and only for people holding the dedicated `members.view_equality_monitoring`
    permission (superusers hold every permission). Django's default view permission for the
    model is not enough, and answers are added, changed and withdrawn only by the member."""

    list_display = ["user", "consented_at"]
    readonly_fields = ["user", "consented_at", "answers"]

    def has_module_permission(self, request):
        return self.has_view_permission(request)

    def has_view_permission(self, request, obj=None):
        return request.user.has_perm("members.view_equality_monitoring")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Position)
class PositionAdmin(SimpleHistoryAdmin):
    list_display = ["title", "councillor", "start_date", "end_date"]
    list_select_related = ["councillor__user"]
    search_fields = ["title", "councillor__user__full_name"]
    raw_id_fields = ["councillor"]


@admin.register(JoinRequest)
class JoinRequestAdmin(admin.ModelAdmin):
    list_display = ["full_name", "email", "council", "status", "requested_at", "invited_at"]
    list_filter = ["status"]
    list_select_related = ["council"]
    search_fields = ["full_name", "email", "council__name"]
    raw_id_fields = ["council", "decided_by"]


@admin.register(CouncillorImport)
class CouncillorImportAdmin(admin.ModelAdmin):
    list_display = ["filename", "region", "status", "processed_rows", "total_rows", "uploaded_at"]
    list_filter = ["status", "region"]
    list_select_related = ["region"]
    readonly_fields = ["content", "report"]
    raw_id_fields = ["uploaded_by"]
