"""Handing conversations from the bot to a person: routing, the queue, agents, pushes to Rasa.

- routing.py: which agent gets a waiting handoff (pure rules, unit tested);
- service.py: handoffs and agents in the database (create, assign, claim, close, rate);
- hours.py: opening hours ("mon-fri 09:00-17:00");
- rasa_push.py: agent messages and hand-backs through Rasa's HTTP API;
- cli.py: `python -m bot agents add|list`.
"""
