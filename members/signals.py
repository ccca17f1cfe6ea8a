from django.dispatch import Signal

# Sent inside the transaction that erases a person's personal data, so other apps can erase what
# they hold about the same person in the same transaction. Arguments: user_id, emails (every
# address the person had).
personal_data_erased = Signal()

# Sent when a person downloads their data, so other apps can add what they hold about them.
# Arguments: user_id, emails (every address the person has). Each receiver returns a dict of
# section name to a list of records (dicts of plain, JSON-serialisable values).
personal_data_requested = Signal()

# Sent inside the transaction that wrote people's accounts or councillor profiles in bulk (a
# councillor import), which sends no post_save for each, so that other apps keeping something
# derived from them (the search index) can bring it up to date. Argument: user_ids.
councillors_written_in_bulk = Signal()
