-- The outbox trigger's NOTIFY made every transaction that wrote outbox rows take Postgres's database-wide notify-queue
-- lock at pre-commit and hold it through its commit's WAL flush, so the API's sends committed one after another instead
-- of sharing WAL flushes (168 sends/s with the trigger, 342/s without, same machine and load). Writers now signal the
-- relays themselves (OutboxSignal): the API after its commit, in-process and with one NOTIFY for many commits; the
-- scheduler's rare, batched writes in their own transaction.
DROP TRIGGER tr_outbox_messages_notify ON outbox_messages;
DROP FUNCTION notify_outbox_messages_inserted();
