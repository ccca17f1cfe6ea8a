from django.urls import path

from alc_portal.routes import paths_under

from .views import compose, content, letters, sending

app_name = "campaigns"
urlpatterns: list = [
    # Mailings come before the campaign slug routes, which would otherwise swallow them.
    path("mailings/", compose.mailing_list, name="mailings"),
    path("mailings/new/", compose.mailing_create, name="mailing_create"),
    path("mailings/audience-count/", compose.audience_count, name="audience_count"),
    path("mailings/<int:pk>/", compose.mailing_detail, name="mailing"),
    *paths_under(
        "mailings/<int:pk>/",
        ("edit/", compose.mailing_edit),
        ("preview/", compose.mailing_preview),
        ("preview/html/", compose.mailing_preview_html),
        ("test/", compose.mailing_test_send),
        ("submit/", compose.mailing_submit),
        ("approve/", compose.mailing_approve),
        ("send/", compose.mailing_send),
        ("schedule/", compose.mailing_schedule),
        ("unschedule/", compose.mailing_unschedule),
        ("sending/", sending.mailing_sending),
        ("progress/", sending.mailing_progress),
        ("report.csv", sending.mailing_report_csv),
        ("letters.pdf", letters.mailing_letters),
        ("labels.pdf", letters.mailing_labels),
        ("pause/", sending.mailing_pause),
        ("resume/", sending.mailing_resume),
        ("cancel/", sending.mailing_cancel),
        ("resend-failed/", sending.mailing_resend_failed),
    ),
    path("suppressions/", sending.suppression_list, name="suppressions"),
    path("my-mailings/resume/", sending.own_mailings_resume, name="own_mailings_resume"),
    path("suppressions/<int:pk>/remove/", sending.suppression_delete, name="suppression_delete"),
    path("", content.campaign_list, name="campaigns"),
    path("new/", content.campaign_create, name="campaign_create"),
    path("<slug:slug>/", content.campaign_detail, name="campaign"),
    *paths_under(
        "<slug:slug>/",
        ("edit/", content.campaign_edit),
        ("resources/add/", content.resource_add),
        ("resources/<int:pk>/remove/", content.resource_remove),
        ("resources/<int:pk>/file/", content.resource_file),
        ("adoptions/add/", content.adoption_add),
        ("adoptions/<int:pk>/remove/", content.adoption_remove),
    ),
]
