"""allauth's login forms, with the association's rule for email addresses.

allauth checks an address with the adapter's clean_email on the forms that store or mail one
(adding an address, resetting a password), but not on the login forms: these subclasses apply the
same rule there, so an address no account could have is refused next to the field.
"""

from allauth.account.forms import LoginForm as AllauthLoginForm
from allauth.account.forms import RequestLoginCodeForm as AllauthRequestLoginCodeForm

from members import imports


class LoginForm(AllauthLoginForm):
    def clean_login(self):
        return imports.clean_email(self.cleaned_data["login"])


class RequestLoginCodeForm(AllauthRequestLoginCodeForm):
    def clean_email(self):
        email = self.cleaned_data.get("email")
        if email:
            self.cleaned_data["email"] = imports.clean_email(email)
        return super().clean_email()
