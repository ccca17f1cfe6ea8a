from django.dispatch import Signal

# Sent inside the transaction that wrote councils or their Labour groups in bulk (loading the
# council data file), which sends no post_save for each, so that other apps keeping something
# derived from them (the search index) can bring it up to date. Argument: council_ids.
councils_written_in_bulk = Signal()
