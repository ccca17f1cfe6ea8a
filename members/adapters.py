from allauth.account.adapter import DefaultAccountAdapter

from members import imports


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request):
        # Accounts come from staff, representatives, imports and approved join requests.
        return False

    def clean_email(self, email: str) -> str:
        # allauth's forms accept addresses up to 320 characters, but the database keeps 254: a
        # longer one must be refused next to the field, not fail when it is saved or mailed.
        return imports.clean_email(super().clean_email(email))
