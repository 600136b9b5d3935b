"""Rasa's event stream, consumed from RabbitMQ (production stack): `consumer` reads the queue,
`feed` stores what it read, once per event, for the live activity view."""
