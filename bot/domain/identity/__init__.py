"""One customer across channels, linked by an email address they proved they own.

How linking is verified: the customer types their email in any channel; the bot emails a
6-digit code (valid 15 minutes, 5 tries) and links the channel identity to the address only
when the customer types the code back in the same conversation. Only a hash of the code is
stored. Identities sharing a verified email are shown to agents as one customer; an email
a customer merely typed (e.g. as a complaint contact) links nothing.

- verification.py: start a verification, check a code, list linked identities;
- mailer.py: send the code through the SMTP server in BOT_SMTP_URL.
"""
