from django.urls import path

from . import views

app_name = "regions"
urlpatterns = [
    # Fixed paths first: region slugs share the top level.
    path("national/", views.national_dashboard, name="national"),
    path("history/<slug:kind>/<int:pk>/", views.object_history, name="history"),
    path("councils/<slug:slug>/", views.council_detail, name="council"),
    path("councils/<slug:slug>/correct/", views.council_correct, name="council_correct"),
    path("groups/<int:pk>/", views.group_detail, name="group"),
    path("groups/<int:pk>/edit/", views.group_edit, name="group_edit"),
    path("groups/<int:pk>/officers/", views.group_officers, name="group_officers"),
    path("officers/<int:pk>/end/", views.officer_end, name="officer_end"),
    path("<slug:slug>/", views.region_detail, name="region"),
]
