"""Writes for campaigns and mailings, one module per entity: campaigns with their resources and
adoptions (content.py); composing and approving a mailing (compose.py); its life once ready
(lifecycle.py: start, schedule, pause, resume, cancel, re-send, finish); the delivery ledger
(claims.py); its messages (messages.py); the loop that sends them (sending.py); the suppression
list (suppression.py); the final report (report.py); and the emails about a mailing's progress
(notifications.py)."""
