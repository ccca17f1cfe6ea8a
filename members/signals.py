import dataclasses

from django.dispatch import Signal

# Sent inside the transaction that erases a person's personal data, so other apps can erase what
# they hold about the same person in the same transaction. Arguments: user_id, emails (every
# address the person had).
personal_data_erased = Signal()

# Sent when a person downloads their data, so other apps can add what they hold about them.
# Arguments: user_id, emails (every address the person has). Each receiver returns a dict of
# section name to a list of records (dicts of plain, JSON-serialisable values).
personal_data_requested = Signal()

# Sent as a person's own home page (home_sections) or profile page (profile_sections) is drawn,
# so that other apps can show what they hold for them there (their bookings, the training they
# completed...). Argument: user. Each receiver returns a list of PageSection, or nothing.
home_sections = Signal()
profile_sections = Signal()

# Sent as a person's home page is drawn, so that other apps can add to the lists of what waits
# for them (mailings to approve, campaigns running...). Argument: user. Each receiver returns a
# list of members.todo.Task, each naming the role whose list it goes on, or nothing.
home_tasks = Signal()


@dataclasses.dataclass(frozen=True)
class PageSection:
    """A part of a members page drawn by another app: its template, given `section` (this
    context) to draw from. Sections are shown in `order`, then as their apps are installed."""

    template: str
    context: dict
    order: int = 0


def page_sections(signal: Signal, *, user) -> list[PageSection]:
    sections = [
        section
        for _receiver, returned in signal.send(sender=None, user=user)
        for section in returned or ()
    ]
    return sorted(sections, key=lambda section: section.order)


# Sent inside the transaction that wrote people's accounts or councillor profiles in bulk (a
# councillor import), which sends no post_save for each, so that other apps keeping something
# derived from them (the search index) can bring it up to date. Argument: user_ids.
councillors_written_in_bulk = Signal()
