"""The agent console: a web page and the JSON API behind it (FastAPI, served by uvicorn).

- app.py: the application: its routers, error answers and security headers;
- routes/: the routes, one router per concern (accounts, handoffs, knowledge, supervision);
- access.py: who may call a route (login, CSRF token, supervisors), as FastAPI dependencies;
- sessions.py: login sessions (cookie token, hashed in the database, expiring) and CSRF tokens;
- views.py: what a handoff looks like to an agent (transcript, earlier conversations, complaints);
- static/: the page itself (plain HTML, CSS and JavaScript; no build step).

Run alone with `python -m bot.console`; `make run` starts it beside Rasa (port 5080).
"""
