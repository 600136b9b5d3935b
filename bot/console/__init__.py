"""The agent console: a web page and the JSON API behind it (FastAPI, served by uvicorn).

- app.py: routes (pages, JSON API, live event stream) and their login/CSRF guards;
- sessions.py: login sessions (cookie token, hashed in the database, expiring) and CSRF tokens;
- views.py: what a handoff looks like to an agent (transcript, earlier conversations, complaints);
- static/: the page itself (plain HTML, CSS and JavaScript; no build step).

Run alone with `python -m bot.console`; `make run` starts it beside Rasa (port 5080).
"""
