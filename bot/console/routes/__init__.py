"""The console's routes, one router per concern (bot/console/app.py includes them all):

- accounts.py: the login and console pages, log in and out, who am I;
- handoffs.py: the queue, a handoff's screen pop, claim, message, hand back, the live stream;
- knowledge.py: FAQ search by meaning, KB edits, unanswered questions grouped (supervisors);
- supervision.py: the dashboard, its metrics and the live feed (supervisors).
"""
