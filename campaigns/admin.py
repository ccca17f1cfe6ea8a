from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from .models import Adoption, Campaign, CampaignResource, Delivery, Mailing, Suppression


class ResourceInline(admin.TabularInline):
    model = CampaignResource
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
    list_display = ["email", "mailing", "status", "attempts", "sent_at"]
    list_filter = ["status"]
    search_fields = ["email"]
    list_select_related = ["mailing"]
    raw_id_fields = ["mailing"]


@admin.register(Suppression)
class SuppressionAdmin(admin.ModelAdmin):
    list_display = ["email", "reason", "created_at"]
    list_filter = ["reason"]
    search_fields = ["email"]
