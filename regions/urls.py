from django.urls import path

from . import views

app_name = "regions"
urlpatterns = [
    path("<slug:slug>/", views.region_detail, name="region"),
    path("councils/<slug:slug>/", views.council_detail, name="council"),
    path("groups/<int:pk>/", views.group_detail, name="group"),
]
