-- Outbox rows that fall due later. A worker schedules a retry (exponential back-off, a provider's Retry-After) as an
-- outbox row written in the same transaction as the job's new state, due at available_at; the relay appends only due
-- rows. Rows written for immediate delivery are due when created.
ALTER TABLE outbox_messages ADD COLUMN available_at timestamptz NULL;
UPDATE outbox_messages SET available_at = created_at;
ALTER TABLE outbox_messages ALTER COLUMN available_at SET NOT NULL;
