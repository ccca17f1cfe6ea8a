"""URL patterns for a group of pages that share the start of their address."""

from django.urls import path


def paths_under(prefix: str, *routes) -> list:
    """A path for each (route, view) under `prefix`, named after its view function, so that a
    page's URL name is its view's name."""
    return [path(prefix + route, view, name=view.__name__) for route, view in routes]
