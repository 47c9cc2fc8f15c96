-- What one POST /api/notifications writes, as one pgbench transaction: read the recipient and their preference
-- rules, then insert the notification, a job per channel (in-app, email) and an outbox row per job. The recipients
-- are the load generator's (load-user-1 … load-user-:users), registered by a load-test run before.
\set n random(1, :users)
BEGIN;
SELECT id, email, email_enabled, muted_until FROM users WHERE id = 'load-user-' || :n;
SELECT scope, scope_key, channel, enabled, delivery_mode FROM notification_preferences WHERE user_id = 'load-user-' || :n;
WITH notification AS (
    INSERT INTO notifications (id, user_id, type, category, priority, title, body, data, created_at)
    VALUES (gen_random_uuid(), 'load-user-' || :n, 'load.test', 'load', 'normal', 'Load test', 'A notification sent by pgbench.', '{"sequence": 1}', now())
    RETURNING id, user_id
), jobs AS (
    INSERT INTO delivery_jobs (id, kind, notification_id, user_id, channel, status, priority, attempts, recovery_count, scheduled_for, created_at, updated_at)
    SELECT gen_random_uuid(), 'notification', notification.id, notification.user_id, channel, 'queued', 'normal', 0, 0, now(), now(), now()
    FROM notification CROSS JOIN (VALUES ('in_app'), ('email')) AS channels (channel)
    RETURNING id, notification_id, user_id, channel
)
INSERT INTO outbox_messages (job_id, channel, payload, created_at, available_at, attempts)
SELECT id, channel, jsonb_build_object('job_id', id, 'notification_id', notification_id, 'user_id', user_id, 'channel', channel, 'priority', 'normal'), now(), now(), 0
FROM jobs;
COMMIT;
