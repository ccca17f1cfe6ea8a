from django.contrib import admin
from django.db import models
from simple_history.admin import SimpleHistoryAdmin

from .models import Adoption, Campaign, CampaignResource, Delivery, Mailing, Suppression

# A web address typed without a scheme is taken to be https.
URL_FIELDS_HTTPS = {models.URLField: {"assume_scheme": "https"}}


class ResourceInline(admin.TabularInline):
    model = CampaignResource
    extra = 0
    formfield_overrides = URL_FIELDS_HTTPS


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


@admin.register(CampaignResource)
class CampaignResourceAdmin(admin.ModelAdmin):
    list_display = ["title", "campaign", "url", "file", "added_at"]
    formfield_overrides = URL_FIELDS_HTTPS
    list_select_related = ["campaign"]
    search_fields = ["title", "campaign__title"]


@admin.register(Adoption)
class AdoptionAdmin(admin.ModelAdmin):
    list_display = ["campaign", "council", "adopted_on"]
    list_select_related = ["campaign", "council"]
    autocomplete_fields = ["council"]
