"""The baseline of bench/pages.py: Django's hello world, served by the same gunicorn settings as
the portal. Settings as `django-admin startproject` writes them (its middleware), one view, no
database.

    DJANGO_SETTINGS_MODULE=bench.hello gunicorn -c deploy/gunicorn.conf.py \\
        "django.core.wsgi:get_wsgi_application()"
"""

import os

from django.http import HttpResponse
from django.urls import path

SECRET_KEY = os.environ["SECRET_KEY"]
DEBUG = False
ALLOWED_HOSTS = ["*"]
ROOT_URLCONF = __name__
INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
]
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]
DATABASES = {}
USE_TZ = True


def hello(request):
    return HttpResponse("Hello, world!")


urlpatterns = [path("", hello)]
