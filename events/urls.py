from django.urls import path

from .views import bookings, events, passes, running

app_name = "events"

urlpatterns = [
    path("", events.event_list, name="list"),
    path("new/", events.event_create, name="create"),
    path("<int:pk>/", events.event_detail, name="detail"),
    path("<int:pk>/edit/", events.event_edit, name="edit"),
    path("<int:pk>/sessions/", events.event_sessions, name="sessions"),
    path("<int:pk>/sessions/add/", events.session_add, name="session_add"),
    path("sessions/<int:pk>/edit/", events.session_edit, name="session_edit"),
    path("<int:pk>/book/", bookings.event_book, name="book"),
    path("<int:pk>/cancel/", bookings.booking_cancel, name="cancel"),
    path("places/<int:pk>/accept/", bookings.place_accept, name="place_accept"),
    path("places/<int:pk>/decline/", bookings.place_decline, name="place_decline"),
    path("<int:pk>/attendance/", running.attendance, name="attendance"),
    path("<int:pk>/report/", running.report, name="report"),
    path("<int:pk>/pass/", passes.pass_apply, name="pass_apply"),
    path("<int:pk>/pass/withdraw/", passes.pass_withdraw, name="pass_withdraw"),
    path("<int:pk>/passes/", passes.pass_list, name="passes"),
    path("<int:pk>/passes.csv", passes.passes_csv, name="passes_csv"),
    path("calendar/", bookings.calendar, name="calendar"),
    path("calendar/<str:token>.ics", bookings.calendar_feed, name="calendar_feed"),
]
