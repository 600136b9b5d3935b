"""The domain, shared by the three processes (the Rasa server, the action server in actions/,
the agent console): handoffs and agents, complaints, customer identity, privacy (redaction,
erasure), insight (metrics, reports), the FAQ search of this process (knowledge.py), the live
event feed and its consumer (events/), and the storage they all keep their rows in (storage/).
Nothing here imports the Rasa server's plug-ins or the console.
"""
