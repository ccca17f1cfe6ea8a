"""Make someone national staff from the command line: how the live portal gets its first staff
account (later ones are appointed in the portal).

    portal staff_add you@example.org --name "Your Name" --job-title "National organiser" --superuser
    portal changepassword you@example.org

Running it again for the same address changes nothing but what it is told to add.
"""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.core.validators import validate_email
from django.db import transaction

from members.services.accounts import user_ensure
from members.services.staff import staff_appoint


class Command(BaseCommand):
    help = "Make the person with this address national staff (creating their account if new)."

    def add_arguments(self, parser):
        parser.add_argument("email")
        parser.add_argument("--name", default="", help="their full name, for a new account")
        parser.add_argument("--job-title", default="")
        parser.add_argument(
            "--superuser",
            action="store_true",
            help="may also change other staff members' and representatives' accounts",
        )

    def handle(self, *args, email, name, job_title, superuser, **options):
        try:
            validate_email(email)
        except ValidationError:
            raise CommandError(f"{email!r} is not an email address.") from None
        with transaction.atomic():
            user, created = user_ensure(email=email, full_name=name)
            staff_appoint(user=user, job_title=job_title)
            if superuser and not user.is_superuser:
                user.is_superuser = True
                user.save(update_fields=["is_superuser"])
        done = "Created" if created else "Found"
        self.stdout.write(
            f"{done} {user.email}: national staff{', superuser' if user.is_superuser else ''}."
        )
        if not user.has_usable_password():
            self.stdout.write(
                f"Now give them a password (`changepassword {user.email}`), or let them use "
                "'Forgot your password?' on the sign-in page. The portal asks them to set up "
                "two-factor authentication when they first sign in."
            )
