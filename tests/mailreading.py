"""Reading the messages a test's SMTP server caught."""

import re


def text_of(message) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


def login_code_in(message) -> str:
    return re.search(r"^\s*([A-Z0-9]{3,}-?[A-Z0-9]*)\s*$", text_of(message), re.MULTILINE).group(1)
