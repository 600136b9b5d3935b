"""bot: the runtime around Rasa, grouped by the process that loads it.

- rasa_server/: loaded into the Rasa server (channels, stores, the understanding component);
- console/: the agent console and the customer pages it serves (uvicorn);
- domain/: the services and storage shared by Rasa, the action server and the console;
- ops/: what prepares, runs and measures the stack (runner, production stack, benchmarks).

At the top: the CLI (`python -m bot`), the one config loader (config.py), the client of
Rasa's HTTP API (rasa_api.py), and the CLI's record export and table writer.
"""
