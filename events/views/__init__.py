"""The events pages, by what they are for: events (the list, an event and its programme,
creating and changing them), bookings (a councillor's own), running (attendance, report) and
passes (conference passes)."""
