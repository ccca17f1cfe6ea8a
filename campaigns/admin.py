from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from members.admin import ReadOnlyAdmin

from .forms import ResourceForm
from .models import (
    Adoption,
    Campaign,
    CampaignResource,
    Delivery,
    LetterPrint,
    Mailing,
    ProviderEvent,
    Suppression,
    SuppressionLift,
)
from .services.suppression import suppression_remove


class ResourceAdminForm(ResourceForm):
    """The portal's checks on a new upload; a file already stored and left as it is has passed
    them when it was uploaded."""

    def clean_file(self):
        if "file" not in self.changed_data:
            return self.cleaned_data.get("file")
        return super().clean_file()


class ResourceInline(admin.TabularInline):
    # The portal's own checks on uploads (type, size, contents) apply here too.
    model = CampaignResource
    form = ResourceAdminForm
    extra = 0


class AdoptionInline(admin.TabularInline):
    model = Adoption
    extra = 0
    autocomplete_fields = ["council"]


@admin.register(Campaign)
class CampaignAdmin(SimpleHistoryAdmin):
    list_display = ["title", "updated_at"]
    search_fields = ["title", "summary"]
    prepopulated_fields = {"slug": ["title"]}
    inlines = [ResourceInline, AdoptionInline]


@admin.register(Mailing)
class MailingAdmin(SimpleHistoryAdmin):
    list_display = ["subject", "status", "campaign", "scheduled_for", "created_at"]
    list_filter = ["status"]
    search_fields = ["subject"]


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    list_display = ["email", "mailing", "channel", "status", "attempts", "sent_at"]
    list_filter = ["channel", "status"]
    search_fields = ["email"]
    list_select_related = ["mailing"]
    raw_id_fields = ["mailing", "group", "printed_by"]


@admin.register(LetterPrint)
class LetterPrintAdmin(admin.ModelAdmin):
    list_display = ["mailing", "printed_at", "printed_by", "letters"]
    list_select_related = ["mailing", "printed_by"]
    raw_id_fields = ["mailing", "printed_by"]


@admin.register(Suppression)
class SuppressionAdmin(admin.ModelAdmin):
    list_display = ["email", "reason", "created_at"]
    list_filter = ["reason"]
    search_fields = ["email"]

    # Removed as the suppression list page removes them: noting when, so that an older report
    # from the provider cannot put the address back.
    def delete_model(self, request, obj):
        suppression_remove(suppression_id=obj.pk)

    def delete_queryset(self, request, queryset):
        for pk in queryset.values_list("pk", flat=True):
            suppression_remove(suppression_id=pk)


@admin.register(SuppressionLift)
class SuppressionLiftAdmin(ReadOnlyAdmin):
    list_display = ["address_digest", "lifted_at"]


@admin.register(ProviderEvent)
class ProviderEventAdmin(ReadOnlyAdmin):
    list_display = ["esp", "event_id", "received_at"]
    list_filter = ["esp"]
    search_fields = ["event_id"]


@admin.register(CampaignResource)
class CampaignResourceAdmin(admin.ModelAdmin):
    form = ResourceAdminForm
    fields = ["campaign", "title", "url", "file"]
    list_display = ["title", "campaign", "url", "file", "added_at"]
    list_select_related = ["campaign"]
    search_fields = ["title", "campaign__title"]


@admin.register(Adoption)
class AdoptionAdmin(admin.ModelAdmin):
    list_display = ["campaign", "council", "adopted_on"]
    list_select_related = ["campaign", "council"]
    autocomplete_fields = ["council"]
