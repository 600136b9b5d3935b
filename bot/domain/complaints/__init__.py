"""Complaints: filing, references, status lifecycle, and telling the customer.

- `parsing`: what a customer's words say (category, order reference, contact, urgency);
- `service`: the complaint records (file, look up for a customer, change status, list);
- `notify`: tell the customer on their own channel when a status changes.
"""
