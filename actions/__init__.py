"""Rasa custom actions (the action server): one module per capability.

Run with `python -m rasa_sdk --actions actions --port 5055` (the runner does this).
"""
