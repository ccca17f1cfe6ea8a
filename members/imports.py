"""Reading and checking a CSV file of councillors before anything is written.

A file has the columns full_name, email, council, ward and optionally phone, in any order. Files
come from spreadsheets as they are saved in practice: the separator (comma, semicolon or tab) is
read from the header line, UTF-16 ("Unicode Text") and Windows-1252 files are decoded, and
header names are matched ignoring case, spaces and punctuation, with common alternatives
("Email address", "Full name", "Ward/division", "Council name"...). `import_plan` checks every
row against the database and says, row by row, what applying it would do: create a councillor,
change one (and which fields), leave one unchanged, or refuse the row with every reason found.
The same function runs again when the import is applied, so a file previewed yesterday is
checked against today's data.
"""

from __future__ import annotations

import csv
import io
import unicodedata
from dataclasses import dataclass

from allauth.account.models import EmailAddress
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db.models.functions import Lower
from django.utils.formats import date_format

from alc_portal.validators import PHONE_MAX, phone_validate
from members.import_checks import councillor_sanity_check
from members.models import Councillor, User
from regions.names import CouncilNames

MAX_FILE_BYTES = 2 * 1024 * 1024
MAX_ROWS = 20_000
# Above this many rows an import runs as a background job with a progress bar.
BACKGROUND_ROWS = 1_000


@dataclass(frozen=True)
class FileLayout:
    """The columns of one kind of import file: those it must have, those it may have, and the
    header names people write for each, reduced to letters and digits (see _column_key)."""

    required: tuple[str, ...]
    optional: tuple[str, ...]
    aliases: dict
    # How the upload page and errors describe the columns, and what one row is.
    described: str
    rows_are: str
    # At least one of these must be there (a group file names its council either way).
    one_of: tuple[str, ...] = ()

    @property
    def columns(self) -> tuple[str, ...]:
        return self.required + self.optional

    def column_for(self, header_name: str) -> str:
        key = _column_key(header_name)
        for name in self.columns:
            if key == _column_key(name) or key in self.aliases.get(name, ()):
                return name
        return key


COUNCILLOR_FILE = FileLayout(
    required=("full_name", "email", "council", "ward"),
    optional=("phone",),
    aliases={
        "full_name": ("fullname", "name", "councillorname"),
        "email": ("email", "emailaddress"),
        "council": ("council", "councilname", "authority", "localauthority"),
        "ward": ("ward", "wardname", "division", "warddivision", "wardordivision", "electoralward"),
        "phone": ("phone", "phonenumber", "telephone", "telephonenumber", "tel", "mobile"),
    },  # fmt: skip
    described="full_name, email, council, ward (and optionally phone)",
    rows_are="councillors",
)
REQUIRED_COLUMNS = COUNCILLOR_FILE.required
OPTIONAL_COLUMNS = COUNCILLOR_FILE.optional
SEPARATORS = (",", ";", "\t")
CP1252_WARNING = (
    "The file was not saved as UTF-8, so it was read as Windows text. Check that names with "
    "accents (such as Siân or Zoë) look right below; if not, save the file from your "
    "spreadsheet as 'CSV UTF-8 (comma delimited)' and upload it again."
)

NAME_MAX = 150
WARD_MAX = 150
EMAIL_MAX = 254
NAME_CHARACTERS_MESSAGE = "Names cannot contain <, >, { or } or control characters."
WARD_REQUIRED_MESSAGE = "Enter the ward (or division) the councillor represents."
NAME_FORMULA_MESSAGE = (
    "Names cannot start with =, +, - or @ (a spreadsheet would read the name as a formula)."
)
WARD_FORMULA_MESSAGE = (
    "Ward names cannot start with =, +, - or @ (a spreadsheet would read the name as a formula)."
)
# Characters a spreadsheet would read as the start of a formula. Exports prefix such cells with
# a quote; the importer takes it off again so an exported file imports unchanged.
FORMULA_STARTS = ("=", "+", "-", "@")


class ImportFileError(ValueError):
    """The file as a whole cannot be read: wrong encoding, structure, size or columns."""


def decode_upload(raw: bytes) -> str:
    """Text of an uploaded file: UTF-8 (with or without a byte-order mark), UTF-16 with a
    byte-order mark, else Windows-1252."""
    return decode_upload_noting(raw)[0]


def decode_upload_noting(raw: bytes) -> tuple[str, list[str]]:
    """The text of an uploaded file and warnings about how it was read."""
    if len(raw) > MAX_FILE_BYTES:
        raise ImportFileError(
            f"The file is larger than {MAX_FILE_BYTES // (1024 * 1024)} MB. "
            "Split it into smaller files."
        )
    # Excel's "Unicode Text" is UTF-16 with a byte-order mark (and tab-separated).
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return raw.decode("utf-16"), []
        except UnicodeDecodeError:
            raise ImportFileError(
                "The file looks like Unicode text but cannot be read. Save it from your "
                "spreadsheet as 'CSV UTF-8 (comma delimited)'."
            ) from None
    try:
        return raw.decode("utf-8-sig"), []
    except UnicodeDecodeError:
        pass
    try:
        return raw.decode("cp1252"), [CP1252_WARNING]
    except UnicodeDecodeError:
        raise ImportFileError(
            "The file is not readable text. Save it from your spreadsheet as "
            "'CSV UTF-8 (comma delimited)'."
        ) from None


def read_rows(text: str, layout: FileLayout = COUNCILLOR_FILE) -> list[dict]:
    """The data rows of a CSV text, each a dict with `line` (the row's number as a spreadsheet
    shows it, the header being 1) and every column of the layout ("" when the file lacks it)."""
    if "\x00" in text:
        raise ImportFileError("The file is not a CSV file (it contains binary data).")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_separator(text), strict=True)
    try:
        header = next(reader, None)
        if header is None:
            raise ImportFileError("The file is empty.")
        columns = [layout.column_for(name) for name in header]
        missing = [name for name in layout.required if name not in columns]
        if layout.one_of and not any(name in columns for name in layout.one_of):
            missing.append(" or ".join(layout.one_of))
        if missing:
            raise ImportFileError(
                f"The first line must name the columns {layout.described}. "
                f"Missing: {', '.join(missing)}."
            )
        duplicated = sorted({name for name in columns if name and columns.count(name) > 1})
        if duplicated:
            raise ImportFileError(f"These columns appear more than once: {', '.join(duplicated)}.")
        wanted = {name: columns.index(name) for name in layout.columns if name in columns}
        rows = []
        for number, values in enumerate(reader, start=2):
            if not any(value.strip() for value in values):
                continue
            if len(rows) >= MAX_ROWS:
                raise ImportFileError(
                    f"The file has more than {MAX_ROWS:,} rows. Split it into smaller files."
                )
            # Spreadsheets often end rows with empty cells; only extra values are an error.
            extra = any(value.strip() for value in values[len(columns) :])
            # A cell may hold line breaks (an address): rows are counted as a spreadsheet
            # numbers them, not by the file's lines.
            row = {"line": number, "extra_fields": extra}
            for name in layout.columns:
                index = wanted.get(name)
                row[name] = (
                    _unquote(values[index].strip())
                    if index is not None and index < len(values)
                    else ""
                )
            rows.append(row)
    except csv.Error as exc:
        raise ImportFileError(
            f"The file is not valid CSV (near line {reader.line_num}: {exc})."
        ) from None
    if not rows:
        raise ImportFileError(f"The file has a header line but no {layout.rows_are}.")
    return rows


def _separator(text: str) -> str:
    """The separator the header line uses most: comma, semicolon (Excel in much of Europe) or
    tab ("Unicode Text"). Separators inside quoted header names are not counted."""
    header = text.lstrip("\ufeff").split("\n", 1)[0]
    unquoted = "".join(part for i, part in enumerate(header.split('"')) if i % 2 == 0)
    counts = {sep: unquoted.count(sep) for sep in SEPARATORS}
    best = max(SEPARATORS, key=lambda sep: counts[sep])
    return best if counts[best] else ","


def _column_key(name: str) -> str:
    """A header name reduced to lower-case letters and digits: "E-mail" and "email" agree."""
    return "".join(ch for ch in name.lower() if ch.isalnum())


def _unquote(value: str) -> str:
    if value.startswith("'") and value[1:].startswith(FORMULA_STARTS):
        return value[1:]
    return value


def _has_refused_characters(value: str) -> bool:
    # Markup, merge-field braces and control characters (C0, DEL and C1 alike).
    return any(ch in "<>{}" or unicodedata.category(ch) == "Cc" for ch in value)


def clean_person_name(value: str, *, required: bool = True) -> str:
    """A person's name as typed, refused if it could not be anyone's name.

    The one rule for names wherever people's details are entered (import, join, representatives'
    and profile forms), also used for names of the same kind such as a position's title, so that
    whatever one form saves another form and a re-import accept.
    """
    value = " ".join(value.split())
    if not value and required:
        raise ValidationError("Enter the councillor's full name.")
    if len(value) > NAME_MAX:
        raise ValidationError(f"The name is too long (at most {NAME_MAX} characters).")
    if _has_refused_characters(value):
        raise ValidationError(NAME_CHARACTERS_MESSAGE, code="characters")
    # Only the first character matters to a spreadsheet: "Ann-Marie" is a name, "=SUM(A1)" not.
    if value.startswith(FORMULA_STARTS):
        raise ValidationError(NAME_FORMULA_MESSAGE, code="formula")
    return value


def clean_ward(value: str, *, required: bool = True) -> str:
    value = " ".join(value.split())
    if not value and required:
        raise ValidationError(WARD_REQUIRED_MESSAGE, code="required")
    if len(value) > WARD_MAX:
        raise ValidationError(f"The ward is too long (at most {WARD_MAX} characters).")
    if _has_refused_characters(value):
        raise ValidationError("Ward names cannot contain <, >, { or } or control characters.")
    if value.startswith(FORMULA_STARTS):
        raise ValidationError(WARD_FORMULA_MESSAGE, code="formula")
    return value


def spreadsheet_cell(value) -> str:
    """A value as text that a spreadsheet shows as it is and never runs as a formula."""
    text = "" if value is None else str(value)
    if text.startswith(FORMULA_STARTS) or text.startswith(("\t", "\r")):
        return "'" + text
    return text


def clean_email(value: str) -> str:
    value = value.strip().lower()
    if not value:
        raise ValidationError("Enter an email address.")
    if len(value) > EMAIL_MAX:
        raise ValidationError(f"The email address is too long (at most {EMAIL_MAX} characters).")
    try:
        validate_email(value)
    except ValidationError:
        raise ValidationError("Enter a valid email address, like name@example.org.") from None
    return value


def clean_phone(value: str, *, stored: str | None = None) -> str:
    return phone_validate(value, stored=stored)


def emails_in_use(emails) -> set[str]:
    """Which of these addresses (in lower case) an account already holds: as its login address,
    or as an address it has verified. A new account must not take one of them.

    An extra address someone added to their account without confirming it holds nothing: anyone
    can type any address there, so it must not stop its real owner joining or being imported.
    Whichever account confirms the address first keeps it (invitation_accept)."""
    wanted = sorted({email.strip().lower() for email in emails if email and email.strip()})
    found: set[str] = set()
    for start in range(0, len(wanted), 2000):
        chunk = wanted[start : start + 2000]
        for rows in (User.objects.all(), EmailAddress.objects.filter(verified=True)):
            found.update(
                rows.annotate(address=Lower("email"))
                .filter(address__in=chunk)
                .values_list("address", flat=True)
            )
    return found


def email_in_use(email: str) -> bool:
    return bool(emails_in_use([email]))


def import_plan(rows: list[dict], *, region) -> dict:
    """What importing these rows into the region would do, without writing anything.

    Returns {"rows": [...], "counts": {...}} where each row has `action` (create, update,
    unchanged or error), `changes` (field: [old, new]) and `errors` (messages), plus the ids
    the writer needs (`user_id`, `councillor_id`, `council_id`). Existing councillors are
    matched by their login email, so importing the same file twice changes nothing the second
    time; an address any other account already uses is an error, never a takeover.
    """
    councils = CouncilNames.current()
    emails = {row["email"].strip().lower() for row in rows if row["email"].strip()}
    in_use = emails_in_use(emails)
    councillors = {}
    logins = set()
    email_list = sorted(in_use)
    for start in range(0, len(email_list), 2000):
        chunk = email_list[start : start + 2000]
        logins.update(
            User.objects.annotate(address=Lower("email"))
            .filter(address__in=chunk)
            .values_list("address", flat=True)
        )
        for councillor in (
            Councillor.objects.annotate(address=Lower("user__email"))
            .filter(address__in=chunk)
            .select_related("user", "council__region")
        ):
            councillors[councillor.address] = councillor

    seen_emails: dict[str, int] = {}
    planned = []
    found = []
    for row in rows:
        result, council, existing = _plan_row(
            row, region, councils, in_use, logins, councillors, seen_emails
        )
        planned.append(result)
        if council is not None:
            found.append((result, council, existing))
    councillor_sanity_check(found)
    return plan_counted(planned)


def plan_counted(planned: list[dict]) -> dict:
    """A plan from its rows: the rows, how many of each action, and how many to check."""
    counts = dict.fromkeys(("create", "update", "unchanged", "error"), 0)
    for row in planned:
        counts[row["action"]] += 1
    checks = sum(1 for row in planned if row.get("warnings") and row["action"] != "error")
    return {"rows": planned, "counts": counts, "rows_to_check": checks}


def _plan_row(row, region, councils, in_use, logins, councillors, seen_emails):
    """The row's plan, and the council and existing councillor it was matched to (or None)."""
    errors = []
    result = {
        "line": row["line"],
        "full_name": row["full_name"][: NAME_MAX + 20],
        "email": row["email"][: EMAIL_MAX + 20],
        "council": row["council"][:200],
        "ward": row["ward"][: WARD_MAX + 20],
        "phone": row["phone"][: PHONE_MAX + 20],
        "changes": {},
        "user_id": None,
        "councillor_id": None,
        "council_id": None,
    }
    if row.get("extra_fields"):
        errors.append("The row has more fields than the header line.")

    def check(cleaner, key, *args, **kwargs):
        try:
            return cleaner(row[key], *args, **kwargs)
        except ValidationError as exc:
            errors.extend(exc.messages)
            return None

    full_name = check(clean_person_name, "full_name")
    email = check(clean_email, "email")
    ward = check(clean_ward, "ward")
    existing = councillors.get(email) if email else None
    # A number already held for this councillor is kept as it is, even if it predates the
    # current rule, so that a file exported from the portal imports unchanged.
    phone = check(clean_phone, "phone", stored=existing.phone if existing else None)

    council = council_in_region(row["council"], councils, region, errors)

    if email:
        if email in seen_emails:
            errors.append(f"The email address is also on line {seen_emails[email]}.")
        else:
            seen_emails[email] = row["line"]

    if existing is not None and existing.council.region_id != region.pk:
        errors.append(
            "This email belongs to a councillor in another region; "
            "ask the national office to move them."
        )
    elif existing is None and email in logins:
        # Only a councillor's profile may be changed by an import: an account of any other
        # kind (national staff, say) is never taken over by a row that names its address.
        errors.append(
            "An account with this email address already exists but has no councillor profile, "
            "so this row cannot be imported. Ask the national office to link the account."
        )
    elif existing is None and email in in_use:
        errors.append(
            "This email address is an extra address on someone else's account. Use the "
            "councillor's main email address, or ask the national office."
        )

    if errors:
        result.update(action="error", errors=errors)
        return result, None, None

    result.update(full_name=full_name, email=email, ward=ward, phone=phone, errors=[])
    result["council_id"] = council.pk
    result["council"] = council.name
    if existing is None:
        result["action"] = "create"
        return result, council, None

    changes = {}
    if existing.user.full_name != full_name:
        changes["full_name"] = [existing.user.full_name, full_name]
    if existing.council_id != council.pk:
        changes["council"] = [existing.council.name, council.name]
    if existing.ward != ward:
        changes["ward"] = [existing.ward, ward]
    # A blank phone in the file leaves a known number alone.
    if phone and existing.phone != phone:
        changes["phone"] = [existing.phone, phone]
    if existing.left_on is not None:
        changes["left_on"] = [existing.left_on.isoformat(), None]
        # Said plainly on the preview: "Reinstated as a serving councillor (had left on ...)".
        result["left_on_display"] = date_format(existing.left_on, "j F Y")
    result.update(
        user_id=existing.user_id,
        councillor_id=existing.pk,
        changes=changes,
        action="update" if changes else "unchanged",
    )
    return result, council, existing


def council_in_region(text: str, councils: CouncilNames, region, errors: list[str]):
    """The council a row names, if it names exactly one and it is in `region` (None for every
    region); otherwise None, with the reason added to `errors`."""
    if not text.strip():
        errors.append("Enter the council (its GSS code or name).")
        return None
    match = councils.find(text)
    if not match.found:
        errors.append(match.error())
        return None
    council = match.council
    if region is not None and council.region_id != region.pk:
        errors.append(f"{council.name} is in {council.region.name}, not {region.name}.")
        return None
    return council
