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
    complaint_ref = sa.Column(sa.String(32), index=True)  # replies about a complaint
    faq_decision = sa.Column(sa.String(16))  # FAQ replies: answer | suggest | unknown | selected


RECORD_FIELDS = (
    "id", "conversation_id", "customer_id", "channel", "actor", "text", "intent",
    "intent_confidence", "entities", "faq_id", "faq_score", "faq_candidates", "action",
    "created_at", "latency_ms", "complaint_ref", "faq_decision",
)


class Complaint(Base):
    """A complaint: filed (or cancelled as a draft) in a conversation, worked through statuses.

    `reference` (C-<year>-<id>) is what the customer quotes; `customer_id` owns it: only the
    same customer gets its status from the bot. Interaction records link back through
    `conversation_id` and their own `complaint_ref`.
    """

    __tablename__ = "complaints"

    id = sa.Column(sa.Integer, primary_key=True)
    reference = sa.Column(sa.String(32), unique=True)
    customer_id = sa.Column(sa.String(255), nullable=False, index=True)
    conversation_id = sa.Column(sa.String(255), nullable=False, index=True)
    channel = sa.Column(sa.String(64), nullable=False)
    category = sa.Column(sa.String(32))
    order_ref = sa.Column(sa.String(32))
    description = sa.Column(sa.Text)
    contact = sa.Column(sa.String(255))
    priority = sa.Column(sa.String(16), nullable=False, default="normal")  # normal | urgent
    status = sa.Column(sa.String(16), nullable=False, index=True)
    created_at = sa.Column(sa.DateTime(timezone=True), nullable=False)
    respond_by = sa.Column(sa.DateTime(timezone=True))
    updated_at = sa.Column(sa.DateTime(timezone=True), nullable=False)


class ComplaintStatusChange(Base):
    """One step of a complaint's history: from which status to which, who, when and why."""

    __tablename__ = "complaint_status_changes"

    id = sa.Column(sa.Integer, primary_key=True)
    complaint_id = sa.Column(sa.Integer, sa.ForeignKey("complaints.id"), nullable=False, index=True)
    from_status = sa.Column(sa.String(16))
    to_status = sa.Column(sa.String(16), nullable=False)
    note = sa.Column(sa.Text)
    changed_by = sa.Column(sa.String(255), nullable=False)
    changed_at = sa.Column(sa.DateTime(timezone=True), nullable=False)
    customer_notified_at = sa.Column(sa.DateTime(timezone=True))


class Agent(Base):
    """A person who answers handed-off conversations in the console.

    `skills` are FAQ/complaint categories; `capacity` is how many chats they take at once.
    `last_seen_at` is refreshed while their console is open; `availability` is their own switch.
    Routable ("online") means both: seen recently and available.
    """

    __tablename__ = "agents"

    id = sa.Column(sa.Integer, primary_key=True)
    username = sa.Column(sa.String(64), unique=True, nullable=False)
    password_hash = sa.Column(sa.String(255), nullable=False)
    role = sa.Column(sa.String(16), nullable=False)  # agent | supervisor
    skills = sa.Column(sa.JSON, nullable=False)
    capacity = sa.Column(sa.Integer, nullable=False)
    created_at = sa.Column(sa.DateTime(timezone=True), nullable=False)
    last_seen_at = sa.Column(sa.DateTime(timezone=True))
    availability = sa.Column(sa.String(16))  # available | away; None: the role's default (agents.py)
    last_finished_at = sa.Column(sa.DateTime(timezone=True))


class AgentSession(Base):
    """A console login. Only a hash of the cookie's token is stored."""

    __tablename__ = "agent_sessions"

    id = sa.Column(sa.Integer, primary_key=True)
    token_hash = sa.Column(sa.String(64), unique=True, nullable=False)
    agent_id = sa.Column(sa.Integer, sa.ForeignKey("agents.id"), nullable=False, index=True)
    csrf_token = sa.Column(sa.String(64), nullable=False)
    created_at = sa.Column(sa.DateTime(timezone=True), nullable=False)
    expires_at = sa.Column(sa.DateTime(timezone=True), nullable=False)


class Handoff(Base):
    """A conversation handed from the bot to a person, from the request to the rating.

    status: waiting (in the queue) -> active (an agent has it) -> closed; or `ticket` when
    nobody was available and the customer left a message (agents see tickets first).
    """

    __tablename__ = "handoffs"

    id = sa.Column(sa.Integer, primary_key=True)
    conversation_id = sa.Column(sa.String(255), nullable=False, index=True)
    customer_id = sa.Column(sa.String(255), nullable=False, index=True)
    channel = sa.Column(sa.String(64), nullable=False)
    reason = sa.Column(sa.String(32), nullable=False)
    skill = sa.Column(sa.String(32))
    status = sa.Column(sa.String(16), nullable=False, index=True)
    message = sa.Column(sa.Text)  # what the customer left when nobody was available
    language = sa.Column(sa.String(8))  # the customer's language when they asked (en, zh)
    contact_email = sa.Column(sa.String(255))  # a ticket's answer is also emailed here (erased with the customer)
    agent_id = sa.Column(sa.Integer, sa.ForeignKey("agents.id"), index=True)
    created_at = sa.Column(sa.DateTime(timezone=True), nullable=False)
    assigned_at = sa.Column(sa.DateTime(timezone=True))
    closed_at = sa.Column(sa.DateTime(timezone=True))
    close_mode = sa.Column(sa.String(16))  # closed | to_bot
    rating = sa.Column(sa.Integer)
    rated_at = sa.Column(sa.DateTime(timezone=True))


class ChannelUpdate(Base):
    """An update a channel received (e.g. Telegram's update_id): processed once, however often
    it is delivered. A unique key, so two Rasa replicas cannot both take it."""

    __tablename__ = "channel_updates"
    __table_args__ = (sa.UniqueConstraint("channel", "update_id"),)

    id = sa.Column(sa.Integer, primary_key=True)
    channel = sa.Column(sa.String(64), nullable=False)
    update_id = sa.Column(sa.String(64), nullable=False)
    received_at = sa.Column(sa.DateTime(timezone=True), nullable=False)


class UndeliveredMessage(Base):
    """A recorded message a channel did not take after its immediate retries: kept, never silently
    dropped, and tried again later with growing pauses (bot/rasa_server/channels/redelivery.py)."""

    __tablename__ = "undelivered_messages"
    __table_args__ = (sa.Index("ix_undelivered_messages_due", "delivered_at", "next_attempt_at"),)

    id = sa.Column(sa.Integer, primary_key=True)
    channel = sa.Column(sa.String(64), nullable=False)
    recipient_id = sa.Column(sa.String(255), nullable=False, index=True)
    text = sa.Column(sa.Text)
    message = sa.Column(sa.Text)  # the message as Rasa sends it (JSON); None: rows from before 0009, text only
    error = sa.Column(sa.Text)
    created_at = sa.Column(sa.DateTime(timezone=True), nullable=False)
    attempts = sa.Column(sa.Integer, nullable=False, default=0, server_default="0")  # later tries so far
    next_attempt_at = sa.Column(sa.DateTime(timezone=True))  # None: no more tries (given up)
    delivered_at = sa.Column(sa.DateTime(timezone=True))


class CustomerEmail(Base):
    """An email address a customer (one channel identity: telegram:123, widget:ab12, ...) proved
    they own, by typing back a code sent to it. Customers with the same verified email are one
    person to the agents."""

    __tablename__ = "customer_emails"
    __table_args__ = (sa.UniqueConstraint("customer_id", "email"),)

    id = sa.Column(sa.Integer, primary_key=True)
    customer_id = sa.Column(sa.String(255), nullable=False, index=True)
    email = sa.Column(sa.String(255), nullable=False, index=True)
    code_hash = sa.Column(sa.String(64))
    code_expires_at = sa.Column(sa.DateTime(timezone=True))
    attempts = sa.Column(sa.Integer, nullable=False, default=0)
    created_at = sa.Column(sa.DateTime(timezone=True), nullable=False)
    verified_at = sa.Column(sa.DateTime(timezone=True))


class LiveEvent(Base):
    """One Rasa event as the event consumer received it from RabbitMQ (bot/domain/events/consumer.py).

    `key` is a hash of the event's identity, so a message RabbitMQ delivers twice (the consumer
    died before acknowledging it) is stored once. No message text: the records keep that."""

    __tablename__ = "live_events"

    key = sa.Column(sa.String(40), primary_key=True)
    sender_id = sa.Column(sa.String(255), nullable=False, index=True)
    event = sa.Column(sa.String(64), nullable=False)
    name = sa.Column(sa.String(255))  # the intent of a user event, the action's name, ...
    timestamp = sa.Column(sa.Float, nullable=False, index=True)
    received_at = sa.Column(sa.DateTime(timezone=True), nullable=False)


class PageView(Base):
    """A page of the shop's site a widget customer opened (bot/domain/visitors.py): address
    without its query or fragment, the referring site only, a device class. Erased with the
    customer, purged with their conversation."""

    __tablename__ = "page_views"

    id = sa.Column(sa.Integer, primary_key=True)
    conversation_id = sa.Column(sa.String(255), nullable=False, index=True)
    url = sa.Column(sa.String(2048), nullable=False)
    title = sa.Column(sa.String(300))
    referrer = sa.Column(sa.String(255))
    device = sa.Column(sa.String(64))
    viewed_at = sa.Column(sa.DateTime(timezone=True), nullable=False, index=True)


class Attachment(Base):
    """A file a customer sent, checked by its content (bot/domain/attachments.py); the bytes live
    in BOT_ATTACHMENTS_DIR under their sha256, outside any web root."""

    __tablename__ = "attachments"

    id = sa.Column(sa.Integer, primary_key=True)
    conversation_id = sa.Column(sa.String(255), nullable=False, index=True)
    sha256 = sa.Column(sa.String(64), nullable=False, index=True)
    kind = sa.Column(sa.String(8), nullable=False)  # png | jpeg | webp | pdf
    size = sa.Column(sa.Integer, nullable=False)
    name = sa.Column(sa.String(255), nullable=False)  # as the customer's file was called, cleaned
    created_at = sa.Column(sa.DateTime(timezone=True), nullable=False)
    complaint_ref = sa.Column(sa.String(32), index=True)  # the complaint it was sent for (attachments.py)
