#!/usr/bin/env python
import os
import sys

# Commands for developers that only read and write the project's files. Run with no settings in
# the environment, they use development ones; their placeholder database and Redis are never
# needed (makemigrations only warns that it could not check the migration history).
DEVELOPER_COMMANDS = {"makemigrations", "build_council_data"}
DEVELOPMENT_DEFAULTS = {
    "DEBUG": "1",
    "DATABASE_URL": "postgres://localhost/unused",
    "REDIS_URL": "redis://localhost:6379/0",
}


def main():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "alc_portal.settings")
    if sys.argv[1:2] and sys.argv[1] in DEVELOPER_COMMANDS and "DEBUG" not in os.environ:
        for name, value in DEVELOPMENT_DEFAULTS.items():
            os.environ.setdefault(name, value)

    from django.conf import settings
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management import execute_from_command_line

    try:
        settings.INSTALLED_APPS  # noqa: B018 - reads the settings: a bad value stops here
    except ImproperlyConfigured as exc:
        # Said plainly, rather than as the "models aren't loaded" error it would become.
        sys.exit(f"{exc}\nFor development, `make run` and `make test` set everything up.")
    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
