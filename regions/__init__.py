"""Places and the people who run them: the 11 regions, Great Britain's principal councils and
their scheduled elections (loaded from `regions/data/councils.csv`), the Labour group on each
council with its officers and contact details, and regional representatives. It imports nothing
from the other apps: people reach it through `settings.AUTH_USER_MODEL`."""
