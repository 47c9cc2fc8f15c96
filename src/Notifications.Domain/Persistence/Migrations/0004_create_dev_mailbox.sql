-- The dev mailbox: where the email worker "sends" when real email is off (Email:EnableRealEmails=false, the default),
-- listed by the API's Development-only /api/dev/mailbox. One row per delivery job: the worker inserts with
-- ON CONFLICT (idempotency_key) DO NOTHING, so a redelivered job is not a second message.
CREATE TABLE dev_mailbox_messages (
    id                  uuid        PRIMARY KEY,
    idempotency_key     text        NOT NULL,
    from_address        text        NOT NULL,
    to_address          text        NOT NULL,
    subject             text        NOT NULL,
    html                text        NOT NULL,
    text                text        NOT NULL,
    headers             jsonb       NOT NULL,
    created_at          timestamptz NOT NULL
);

CREATE UNIQUE INDEX ux_dev_mailbox_messages_idempotency_key ON dev_mailbox_messages (idempotency_key);
-- The listing: newest first, optionally for one recipient.
CREATE INDEX ix_dev_mailbox_messages_created_at ON dev_mailbox_messages (created_at DESC);
CREATE INDEX ix_dev_mailbox_messages_to_address_created_at ON dev_mailbox_messages (to_address, created_at DESC);
