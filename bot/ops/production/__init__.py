"""The production stack: several Rasa replicas and action servers behind nginx, PostgreSQL,
Rasa's Redis lock store and RabbitMQ event broker (`make run-prod`, docs/production.md)."""
