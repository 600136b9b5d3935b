"""Tables. Alembic migrations in `migrations/versions/` create and change them.

- `conversation_events`: Rasa's event log per conversation (what the tracker store keeps;
  same columns as Rasa's own SQL tracker store, so Rasa tools read it the same way).
- `interaction_records`: one row per act (a customer message, a bot or agent reply): the
  interaction record of DOMAIN.md, written in the same transaction as the events.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import declarative_base

Base = declarative_base()


class ConversationEvent(Base):
    __tablename__ = "conversation_events"

    id = sa.Column(sa.Integer, primary_key=True)
    sender_id = sa.Column(sa.String(255), nullable=False, index=True)
    type_name = sa.Column(sa.String(255), nullable=False)
    timestamp = sa.Column(sa.Float)
    intent_name = sa.Column(sa.String(255))
    action_name = sa.Column(sa.String(255))
    data = sa.Column(sa.Text)


class InteractionRecord(Base):
    __tablename__ = "interaction_records"

    id = sa.Column(sa.Integer, primary_key=True)
    conversation_id = sa.Column(sa.String(255), nullable=False, index=True)
    customer_id = sa.Column(sa.String(255), nullable=False, index=True)
    channel = sa.Column(sa.String(64), nullable=False)
    actor = sa.Column(sa.String(16), nullable=False)  # customer | bot | agent
    text = sa.Column(sa.Text)
    intent = sa.Column(sa.String(255))
    intent_confidence = sa.Column(sa.Float)
    entities = sa.Column(sa.JSON)
    faq_id = sa.Column(sa.String(255), index=True)
    faq_score = sa.Column(sa.Float)
    faq_candidates = sa.Column(sa.JSON)
    action = sa.Column(sa.String(255))
    created_at = sa.Column(sa.DateTime(timezone=True), nullable=False, index=True)
    latency_ms = sa.Column(sa.Float)


RECORD_FIELDS = (
    "id", "conversation_id", "customer_id", "channel", "actor", "text", "intent",
    "intent_confidence", "entities", "faq_id", "faq_score", "faq_candidates", "action",
    "created_at", "latency_ms",
)
