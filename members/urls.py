from django.urls import path

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
    path(
        "join-requests/<int:pk>/approve/",
        join_requests.join_request_approve,
        name="join_request_approve",
    ),
    path(
        "join-requests/<int:pk>/refuse/",
        join_requests.join_request_refuse,
        name="join_request_refuse",
    ),
    path("invitation/<uidb64>/<token>/", invitations.invitation_accept, name="invitation_accept"),
    path(
        "councils/<slug:slug>/councillors/",
        councillors.council_councillors,
        name="council_councillors",
    ),
    path(
        "councils/<slug:slug>/councillors/add/", councillors.councillor_add, name="councillor_add"
    ),
    path(
        "councils/<slug:slug>/councillors/<int:pk>/edit/",
        councillors.councillor_edit,
        name="councillor_edit",
    ),
    path(
        "councils/<slug:slug>/councillors/<int:pk>/leave/",
        councillors.councillor_leave,
        name="councillor_leave",
    ),
    path(
        "councils/<slug:slug>/councillors/<int:pk>/reinstate/",
        councillors.councillor_reinstate,
        name="councillor_reinstate",
    ),
    path(
        "councils/<slug:slug>/councillors/invitations/",
        councillors.council_invitations_resend,
        name="council_invitations_resend",
    ),
    path(
        "invitations/region/<slug:slug>/",
        councillors.region_invitations_resend,
        name="region_invitations_resend",
    ),
    path(
        "councils/<slug:slug>/councillors/<int:pk>/invitation/",
        councillors.councillor_invitation_resend,
        name="councillor_invitation_resend",
    ),
    path(
        "councillors/<int:pk>/history/", councillors.councillor_history, name="councillor_history"
    ),
    path("import/<slug:region_slug>/", imports.import_upload, name="import_upload"),
    path(
        "import/<slug:region_slug>/groups/",
        imports.group_import_upload,
        name="group_import_upload",
    ),
    path("imports/<int:pk>/", imports.import_detail, name="import_detail"),
    path("imports/<int:pk>/confirm/", imports.import_confirm, name="import_confirm"),
    path("imports/<int:pk>/progress.json", imports.import_progress, name="import_progress"),
    path(
        "imports/<int:pk>/rows-with-errors.csv",
        exports.import_rejected_rows,
        name="import_rejected_rows",
    ),
    path(
        "export/<slug:region_slug>/councillors.csv",
        exports.export_councillors,
        name="export_councillors",
    ),
    path("export/<slug:region_slug>/groups.csv", exports.export_groups, name="export_groups"),
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
