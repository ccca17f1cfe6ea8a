"""Invented people for trying the portal: never real names, safe to run again."""

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from simple_history.utils import bulk_update_with_history

from members import services
from regions.models import Council, CouncilGroup, Region

# Everyone here is invented. The addresses use a reserved domain that cannot receive mail.
DEMO_DOMAIN = "demo.alc.example.org"
DEMO_PASSWORD = "demo-portal-2026"  # noqa: S105 (public, for the demo accounts only)
# Staff and representatives must use two-factor authentication. Add this secret to any
# authenticator app (it is public: demo only), or use one of the recovery codes printed.
DEMO_TOTP_SECRET = "JBSWY3DPEHPK3PXPALCPORTALDEMO234"  # noqa: S105
STAFF = ("staff@demo.alc.example.org", "Morgan Ashdown")
REPRESENTATIVES = [
    ("rep.london@demo.alc.example.org", "Priya Calloway", "London"),
    ("rep.wales@demo.alc.example.org", "Gethin Marwood", "Wales"),
]
# (email, name, council GSS code, ward)
COUNCILLORS = [
    ("councillor@demo.alc.example.org", "Alex Brennard", "E09000007", "Kentish Town South"),
    ("cllr.okafor@demo.alc.example.org", "Tunde Okafor-Lisle", "E09000012", "Dalston"),
    ("cllr.venn@demo.alc.example.org", "Rosa Venn", "E09000022", "Brixton Acre Lane"),
    ("cllr.pendleton@demo.alc.example.org", "Carys Pendleton", "W06000015", "Splott"),
    ("cllr.tregaron@demo.alc.example.org", "Owain Tregaron", "W06000011", "Castle"),
]


class Command(BaseCommand):
    help = "Create the demo staff user, representatives and councillors (idempotent)."

    @transaction.atomic
    def handle(self, *args, **options):
        if not Council.objects.exists():
            raise CommandError("Load the councils first: python manage.py load_councils")
        created = []

        user, new = services.accounts.user_ensure(
            email=STAFF[0], full_name=STAFF[1], password=DEMO_PASSWORD
        )
        services.staff.staff_appoint(user=user, job_title="National organiser")
        recovery = {
            user.email: services.accounts.two_factor_enrol(user=user, totp_secret=DEMO_TOTP_SECRET)
        }
        created += [user.email] if new else []

        for email, name, region_name in REPRESENTATIVES:
            user, new = services.accounts.user_ensure(
                email=email, full_name=name, password=DEMO_PASSWORD
            )
            services.representatives.representative_appoint(
                user=user, region=Region.objects.get(name=region_name)
            )
            recovery[user.email] = services.accounts.two_factor_enrol(
                user=user, totp_secret=DEMO_TOTP_SECRET
            )
            created += [user.email] if new else []

        for email, name, gss_code, ward in COUNCILLORS:
            user, new = services.accounts.user_ensure(
                email=email, full_name=name, password=DEMO_PASSWORD
            )
            services.councillors.councillor_ensure(
                user=user, council=Council.objects.get(gss_code=gss_code), ward=ward
            )
            created += [user.email] if new else []

        addressed = _invented_group_addresses()

        self.stdout.write(
            f"Demo accounts ready ({len(created)} new). Every demo password is {DEMO_PASSWORD}:"
        )
        for email in [STAFF[0]] + [r[0] for r in REPRESENTATIVES] + [c[0] for c in COUNCILLORS]:
            self.stdout.write(f"  {email}")
        self.stdout.write(
            "Staff and representatives also need a two-factor code: add the secret "
            f"{DEMO_TOTP_SECRET} to an authenticator app, or use a recovery code:"
        )
        for email, codes in recovery.items():
            self.stdout.write(f"  {email}: {' '.join(codes[:3])}")
        if addressed:
            self.stdout.write(
                f"{addressed} Labour groups were given an invented contact address "
                f"(labour.<council>@{DEMO_DOMAIN}), so that mailings reach the mail catcher."
            )


def _invented_group_addresses() -> int:
    """Give every Labour group without a contact address an invented one, so that a mailing
    tried in the demo has somebody to write to. Addresses already there are kept."""
    groups = list(CouncilGroup.objects.without_contact_address().select_related("council"))
    for group in groups:
        group.contact_email = f"labour.{group.council.slug}@{DEMO_DOMAIN}"
    bulk_update_with_history(
        groups,
        CouncilGroup,
        ["contact_email"],
        batch_size=500,
        default_change_reason="Invented contact address (demo data)",
    )
    return len(groups)
