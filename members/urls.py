from django.urls import path

from alc_portal.routes import paths_under

from .views import (
    councillors,
    decisions,
    exports,
    home,
    imports,
    invitations,
    join_requests,
    profile,
    representatives,
)

urlpatterns = [
    path("", home.home, name="home"),
    path("join/", join_requests.join, name="join"),
    path("join/thanks/", join_requests.join_thanks, name="join_thanks"),
    path("join-requests/", join_requests.join_requests, name="join_requests"),
    *paths_under(
        "join-requests/<int:pk>/",
        ("approve/", join_requests.join_request_approve),
        ("refuse/", join_requests.join_request_refuse),
    ),
    path("invitation/<uidb64>/<token>/", invitations.invitation_accept, name="invitation_accept"),
    *paths_under(
        "councils/<slug:slug>/councillors/",
        ("", councillors.council_councillors),
        ("add/", councillors.councillor_add),
        ("<int:pk>/edit/", councillors.councillor_edit),
        ("<int:pk>/leave/", councillors.councillor_leave),
        ("<int:pk>/reinstate/", councillors.councillor_reinstate),
        ("invitations/", councillors.council_invitations_resend),
        ("<int:pk>/invitation/", councillors.councillor_invitation_resend),
    ),
    path(
        "invitations/region/<slug:slug>/",
        councillors.region_invitations_resend,
        name="region_invitations_resend",
    ),
    path(
        "councillors/<int:pk>/history/", councillors.councillor_history, name="councillor_history"
    ),
    *paths_under(
        "import/<slug:region_slug>/",
        ("", imports.import_upload),
        ("groups/", imports.group_import_upload),
    ),
    *paths_under(
        "imports/<int:pk>/",
        ("", imports.import_detail),
        ("confirm/", imports.import_confirm),
        ("progress.json", imports.import_progress),
        ("rows-with-errors.csv", exports.import_rejected_rows),
    ),
    *paths_under(
        "export/<slug:region_slug>/",
        ("councillors.csv", exports.export_councillors),
        ("groups.csv", exports.export_groups),
    ),
    path("representatives/", representatives.representatives, name="representatives"),
    path(
        "representatives/appoint/<slug:slug>/",
        representatives.representative_appoint,
        name="representative_appoint",
    ),
    path("exports/", exports.export_log, name="export_log"),
    path(
        "representatives/<int:pk>/remove/",
        representatives.representative_remove,
        name="representative_remove",
    ),
    path("profile/", profile.profile, name="profile"),
    path("profile/edit/", profile.profile_edit, name="profile_edit"),
    path("my-region/", profile.my_region, name="my_region"),
    path("levy-waiver/", profile.levy_waiver, name="levy_waiver"),
    path("my-data/", profile.my_data, name="my_data"),
    path("my-data/export.json", profile.my_data_export_json, name="my_data_json"),
    path("my-data/export.csv", profile.my_data_export_csv, name="my_data_csv"),
    path("my-data/erase/", profile.erasure_request, name="erasure_request"),
    path("my-data/equality/", profile.equality, name="equality"),
    path("my-data/equality/withdraw/", profile.equality_withdraw, name="equality_withdraw"),
    path("decisions/", decisions.index, name="decisions"),
    path("decisions/changes/", decisions.changes, name="decisions_changes"),
    path("decisions/changes/<int:pk>/", decisions.change_detail, name="decisions_change"),
    path("decisions/waivers/", decisions.waivers, name="decisions_waivers"),
    path("decisions/waivers/<int:pk>/", decisions.waiver_detail, name="decisions_waiver"),
    path("decisions/erasures/", decisions.erasures, name="decisions_erasures"),
    path("decisions/erasures/<int:pk>/", decisions.erasure_detail, name="decisions_erasure"),
    path("decisions/equality/", decisions.equality_summary, name="decisions_equality"),
]
