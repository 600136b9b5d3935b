"""What the records must never keep, and forgetting on request or after a while.

- redaction.py: emails, phone numbers, card numbers and long digit strings become typed
  placeholders in stored record and event text (BOT_REDACT chooses the kinds);
- erase.py: `python -m bot erase-customer ID` and `python -m bot purge` (retention).
"""
