from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from simple_history.admin import SimpleHistoryAdmin

from regions.admin import RegionalRepresentativeAdmin as BaseRepresentativeAdmin
from regions.models import RegionalRepresentative

from .access import SUPERUSER_ONLY, may_change_roles, may_change_sign_in
from .models import (
    Councillor,
    CouncillorImport,
    EqualityMonitoring,
    ErasureRequest,
    ExportLogEntry,
    JoinRequest,
    LevyWaiver,
    Notice,
    Position,
    ProfileChange,
    StaffRole,
    User,
)
from .services.staff import staff_appoint, staff_remove


class ReadOnlyAdminMixin:
    """Records that are shown in the admin but never added, changed or deleted by hand."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    pass


# Fields that grant powers: only a superuser may change them. National staff get their admin
# permissions from the staff role (the StaffRole admin below), never by editing an account.
POWER_FIELDS = ["is_staff", "is_superuser", "groups", "user_permissions"]


@admin.register(User)
class UserAdmin(SimpleHistoryAdmin, BaseUserAdmin):
    ordering = ["email"]
    list_display = ["email", "full_name", "is_active", "is_staff", "date_joined"]
    search_fields = ["email", "full_name", "preferred_name"]
    list_filter = ["is_active", "is_staff", "is_superuser"]
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        ("Name", {"fields": ["full_name", "preferred_name"]}),
        ("Access", {"fields": ["is_active", *POWER_FIELDS]}),
        ("Dates", {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [(None, {"classes": ["wide"], "fields": ["email", "password1", "password2"]})]
    readonly_fields = ["last_login", "date_joined"]

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if not request.user.is_superuser:
            fields += POWER_FIELDS
        return fields

    def save_model(self, request, obj, form, change):
        if change and not request.user.is_superuser:
            # Whatever the form held, the powers stay as the database has them.
            obj.is_staff, obj.is_superuser = (
                User.objects.filter(pk=obj.pk).values_list("is_staff", "is_superuser").get()
            )
        super().save_model(request, obj, form, change)

    def revert_disabled(self, request, obj=None):
        return not request.user.is_superuser or super().revert_disabled(request, obj)

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        # Reverting an account to an old version could bring back powers it no longer has.
        if request.method == "POST" and not request.user.is_superuser:
            raise PermissionDenied
        return super().history_form_view(request, object_id, version_id, extra_context)

    def has_change_permission(self, request, obj=None):
        # Changing the address or password of staff, a representative or a superuser would be a
        # way to become them: only a superuser may (members.access.may_change_sign_in).
        if obj is not None and not may_change_sign_in(request.user, obj):
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        if obj is not None and not may_change_sign_in(request.user, obj):
            return False
        return super().has_delete_permission(request, obj)

    def delete_queryset(self, request, queryset):
        if any(not may_change_sign_in(request.user, user) for user in queryset):
            raise PermissionDenied(SUPERUSER_ONLY)
        super().delete_queryset(request, queryset)


class _RoleHolderForm(forms.ModelForm):
    """Refuses, next to the field, a person whose roles the signed-in user may not change."""

    request = None

    def clean_user(self):
        user = self.cleaned_data["user"]
        if not may_change_roles(self.request.user, user):
            raise ValidationError(SUPERUSER_ONLY)
        return user


class _RoleAdminMixin:
    """Staff roles and representative appointments of staff and admin-site users are a
    superuser's to give, change and take away (members.access.may_change_roles)."""

    form = _RoleHolderForm

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        form.request = request
        return form

    def has_change_permission(self, request, obj=None):
        if obj is not None and not may_change_roles(request.user, obj.user):
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        if obj is not None and not may_change_roles(request.user, obj.user):
            return False
        return super().has_delete_permission(request, obj)


@admin.register(StaffRole)
class StaffRoleAdmin(_RoleAdminMixin, SimpleHistoryAdmin):
    """Appointing and removing staff here does what the rest of the portal does: admin site
    access and the national staff permissions come and go with the role."""

    list_display = ["user", "job_title", "since"]
    list_select_related = ["user"]
    autocomplete_fields = ["user"]

    def get_readonly_fields(self, request, obj=None):
        # A role belongs to one person: to move it, remove it and appoint the other person.
        return ["user"] if obj is not None else []

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
            return
        role = staff_appoint(user=obj.user, job_title=obj.job_title, since=obj.since)
        obj.pk = role.pk

    def delete_model(self, request, obj):
        staff_remove(user=obj.user)

    def delete_queryset(self, request, queryset):
        with transaction.atomic():
            for role in queryset.select_related("user"):
                if not may_change_roles(request.user, role.user):
                    raise PermissionDenied(SUPERUSER_ONLY)
                staff_remove(user=role.user)


admin.site.unregister(RegionalRepresentative)


@admin.register(RegionalRepresentative)
class RegionalRepresentativeAdmin(_RoleAdminMixin, BaseRepresentativeAdmin):
    def delete_queryset(self, request, queryset):
        if any(not may_change_roles(request.user, r.user) for r in queryset.select_related("user")):
            raise PermissionDenied(SUPERUSER_ONLY)
        super().delete_queryset(request, queryset)


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

    def has_delete_permission(self, request, obj=None):
        # The record that an erasure was asked for, and what was decided, stays.
        return False


@admin.register(ExportLogEntry)
class ExportLogEntryAdmin(ReadOnlyAdmin):
    """Every download of personal data, as it happened."""

    list_display = ["at", "user", "kind", "subject", "rows"]
    list_filter = ["kind", "at"]
    list_select_related = ["user"]
    search_fields = ["user__email", "user__full_name", "subject"]
    date_hierarchy = "at"


@admin.register(EqualityMonitoring)
class EqualityMonitoringAdmin(ReadOnlyAdmin):
    """Read-only, and only for people holding the dedicated `members.view_equality_monitoring`
    permission (superusers hold every permission). Django's default view permission for the
    model is not enough, and answers are added, changed and withdrawn only by the member."""

    list_display = ["user", "consented_at"]
    readonly_fields = ["user", "consented_at", "answers"]

    def has_module_permission(self, request):
        return self.has_view_permission(request)

    def has_view_permission(self, request, obj=None):
        return request.user.has_perm("members.view_equality_monitoring")


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
    list_display = [
        "filename", "kind", "region", "status", "processed_rows", "total_rows", "uploaded_at",
    ]  # fmt: skip
    list_filter = ["kind", "status", "region"]
    list_select_related = ["region"]
    readonly_fields = ["content", "report"]
    raw_id_fields = ["uploaded_by"]


@admin.register(Notice)
class NoticeAdmin(ReadOnlyAdmin):
    """The outbox: what went to whom, and what failed (filter by status)."""

    list_display = ["created_at", "kind", "to_email", "status", "attempts", "sent_at"]
    list_filter = ["status", "kind"]
    search_fields = ["to_email", "subject"]
    date_hierarchy = "created_at"
