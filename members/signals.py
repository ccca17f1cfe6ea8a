from django.dispatch import Signal

# Sent inside the transaction that erases a person's personal data, so other apps can erase what
# they hold about the same person in the same transaction. Arguments: user_id, emails (every
# address the person had).
personal_data_erased = Signal()
