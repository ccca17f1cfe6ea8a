"""Writing to council Labour groups: policy campaigns councils adopt, and mailings, from the
audience rule and composer through approval, scheduling and sending (the Delivery ledger that
makes each message go once), to suppression, unsubscribe links and the provider's bounce
webhooks. docs/mailings.md explains the pipeline."""
