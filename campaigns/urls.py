from django.urls import path

from .views import compose, content, letters, sending

app_name = "campaigns"
urlpatterns: list = [
    # Mailings come before the campaign slug routes, which would otherwise swallow them.
    path("mailings/", compose.mailing_list, name="mailings"),
    path("mailings/new/", compose.mailing_create, name="mailing_create"),
    path("mailings/audience-count/", compose.audience_count, name="audience_count"),
    path("mailings/<int:pk>/", compose.mailing_detail, name="mailing"),
    path("mailings/<int:pk>/edit/", compose.mailing_edit, name="mailing_edit"),
    path("mailings/<int:pk>/preview/", compose.mailing_preview, name="mailing_preview"),
    path(
        "mailings/<int:pk>/preview/html/",
        compose.mailing_preview_html,
        name="mailing_preview_html",
    ),
    path("mailings/<int:pk>/test/", compose.mailing_test_send, name="mailing_test_send"),
    path("mailings/<int:pk>/submit/", compose.mailing_submit, name="mailing_submit"),
    path("mailings/<int:pk>/approve/", compose.mailing_approve, name="mailing_approve"),
    path("mailings/<int:pk>/send/", compose.mailing_send, name="mailing_send"),
    path("mailings/<int:pk>/schedule/", compose.mailing_schedule, name="mailing_schedule"),
    path("mailings/<int:pk>/unschedule/", compose.mailing_unschedule, name="mailing_unschedule"),
    path("mailings/<int:pk>/sending/", sending.mailing_sending, name="mailing_sending"),
    path("mailings/<int:pk>/progress/", sending.mailing_progress, name="mailing_progress"),
    path("mailings/<int:pk>/report.csv", sending.mailing_report_csv, name="mailing_report_csv"),
    path("mailings/<int:pk>/letters.pdf", letters.mailing_letters, name="mailing_letters"),
    path("mailings/<int:pk>/labels.pdf", letters.mailing_labels, name="mailing_labels"),
    path("mailings/<int:pk>/pause/", sending.mailing_pause, name="mailing_pause"),
    path("mailings/<int:pk>/resume/", sending.mailing_resume, name="mailing_resume"),
    path("mailings/<int:pk>/cancel/", sending.mailing_cancel, name="mailing_cancel"),
    path(
        "mailings/<int:pk>/resend-failed/",
        sending.mailing_resend_failed,
        name="mailing_resend_failed",
    ),
    path("suppressions/", sending.suppression_list, name="suppressions"),
    path("my-mailings/resume/", sending.own_mailings_resume, name="own_mailings_resume"),
    path("suppressions/<int:pk>/remove/", sending.suppression_delete, name="suppression_delete"),
    path("", content.campaign_list, name="campaigns"),
    path("new/", content.campaign_create, name="campaign_create"),
    path("<slug:slug>/", content.campaign_detail, name="campaign"),
    path("<slug:slug>/edit/", content.campaign_edit, name="campaign_edit"),
    path("<slug:slug>/resources/add/", content.resource_add, name="resource_add"),
    path("<slug:slug>/resources/<int:pk>/remove/", content.resource_remove, name="resource_remove"),
    path("<slug:slug>/resources/<int:pk>/file/", content.resource_file, name="resource_file"),
    path("<slug:slug>/adoptions/add/", content.adoption_add, name="adoption_add"),
    path("<slug:slug>/adoptions/<int:pk>/remove/", content.adoption_remove, name="adoption_remove"),
]
