"""The production rehearsal behind `make prod-check`: the portal installed and run on this
machine from the files in deploy/ (systemd units, gunicorn.conf.py, the nginx site, redis.conf,
env.example, backup and restore) with Debian's PostgreSQL, Redis, nginx and Postfix's
smtp-sink, then checked end to end. See run.py for how it starts and checks.py for what it
checks; docs/operations.md ("Production") for what it means for a real server."""
