"""Rasa tracker stores of this project (configured in endpoints.yml)."""
