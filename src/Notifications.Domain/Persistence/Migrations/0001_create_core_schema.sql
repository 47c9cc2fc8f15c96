-- Core schema: recipients, notifications, delivery jobs and their logs, the transactional outbox,
-- preferences, digest schedules, quota snapshots, dead letters, cron-run history and idempotency keys.
-- Enumerations are text with CHECK constraints holding exactly the snake_case names of the C# enums;
-- widening one (e.g. a new channel) is a new migration that replaces the named constraint.

CREATE TABLE users (
    id              text        PRIMARY KEY,
    email           text        NULL,
    display_name    text        NULL,
    time_zone       text        NOT NULL,
    email_enabled   boolean     NOT NULL,
    muted_until     timestamptz NULL,
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL
);

CREATE TABLE notifications (
    id              uuid        PRIMARY KEY,
    user_id         text        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    type            text        NOT NULL,
    category        text        NOT NULL,
    priority        text        NOT NULL,
    title           text        NOT NULL,
    body            text        NOT NULL,
    data            jsonb       NOT NULL,
    read_at         timestamptz NULL,
    seen_at         timestamptz NULL,
    archived_at     timestamptz NULL,
    created_at      timestamptz NOT NULL,
    CONSTRAINT ck_notifications_priority CHECK (priority IN ('low', 'normal', 'high', 'critical'))
);

-- Inbox, newest first, keyset cursor on (created_at, id).
CREATE INDEX ix_notifications_inbox ON notifications (user_id, created_at DESC, id DESC) WHERE archived_at IS NULL;
CREATE INDEX ix_notifications_inbox_by_category ON notifications (user_id, category, created_at DESC, id DESC) WHERE archived_at IS NULL;
CREATE INDEX ix_notifications_unread ON notifications (user_id) WHERE read_at IS NULL AND archived_at IS NULL;

CREATE TABLE delivery_jobs (
    id                  uuid        PRIMARY KEY,
    kind                text        NOT NULL,
    notification_id     uuid        NULL REFERENCES notifications (id) ON DELETE CASCADE,
    user_id             text        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    channel             text        NOT NULL,
    status              text        NOT NULL,
    priority            text        NOT NULL,
    attempts            integer     NOT NULL,
    recovery_count      integer     NOT NULL,
    scheduled_for       timestamptz NOT NULL,
    processed_at        timestamptz NULL,
    provider_message_id text        NULL,
    last_error          text        NULL,
    digest_job_id       uuid        NULL REFERENCES delivery_jobs (id) ON DELETE SET NULL,
    digest_period_key   text        NULL,
    created_at          timestamptz NOT NULL,
    updated_at          timestamptz NOT NULL,
    CONSTRAINT ck_delivery_jobs_kind CHECK (kind IN ('notification', 'digest')),
    CONSTRAINT ck_delivery_jobs_channel CHECK (channel IN ('in_app', 'email')),
    CONSTRAINT ck_delivery_jobs_status CHECK (status IN ('pending', 'queued', 'processing', 'sent', 'failed', 'cancelled', 'deferred', 'digest_pending', 'digested')),
    CONSTRAINT ck_delivery_jobs_priority CHECK (priority IN ('low', 'normal', 'high', 'critical')),
    CONSTRAINT ck_delivery_jobs_attempts CHECK (attempts >= 0 AND recovery_count >= 0),
    -- A notification job delivers one notification; a digest job delivers the jobs folded into it.
    CONSTRAINT ck_delivery_jobs_kind_shape CHECK (
        (kind = 'notification' AND notification_id IS NOT NULL AND digest_period_key IS NULL)
        OR (kind = 'digest' AND notification_id IS NULL AND digest_job_id IS NULL AND channel = 'email')),
    -- A folded job names its digest job exactly when it is digested.
    CONSTRAINT ck_delivery_jobs_digested CHECK ((status = 'digested') = (digest_job_id IS NOT NULL))
);

CREATE UNIQUE INDEX ux_delivery_jobs_notification_channel ON delivery_jobs (notification_id, channel);
-- At most one digest per user and period, whatever crashes and retries happen around it.
CREATE UNIQUE INDEX ux_delivery_jobs_digest_period ON delivery_jobs (user_id, digest_period_key) WHERE digest_period_key IS NOT NULL;
CREATE INDEX ix_delivery_jobs_status_scheduled_for ON delivery_jobs (status, scheduled_for);
CREATE INDEX ix_delivery_jobs_status_updated_at ON delivery_jobs (status, updated_at);
CREATE INDEX ix_delivery_jobs_user_created_at ON delivery_jobs (user_id, created_at DESC);
CREATE INDEX ix_delivery_jobs_digest_pending ON delivery_jobs (user_id, created_at DESC) WHERE status = 'digest_pending';
CREATE INDEX ix_delivery_jobs_digest_job_id ON delivery_jobs (digest_job_id) WHERE digest_job_id IS NOT NULL;

CREATE TABLE delivery_logs (
    id                  uuid        PRIMARY KEY,
    job_id              uuid        NOT NULL REFERENCES delivery_jobs (id) ON DELETE CASCADE,
    attempt             integer     NOT NULL,
    channel             text        NOT NULL,
    provider            text        NOT NULL,
    outcome             text        NOT NULL,
    http_status_code    integer     NULL,
    response_excerpt    text        NULL,
    duration_ms         bigint      NOT NULL,
    error               text        NULL,
    created_at          timestamptz NOT NULL,
    CONSTRAINT ck_delivery_logs_channel CHECK (channel IN ('in_app', 'email')),
    CONSTRAINT ck_delivery_logs_outcome CHECK (outcome IN ('sent', 'transient_failure', 'permanent_failure', 'quota_exceeded', 'skipped')),
    CONSTRAINT ck_delivery_logs_attempt CHECK (attempt >= 1 AND duration_ms >= 0)
);

CREATE INDEX ix_delivery_logs_job_attempt ON delivery_logs (job_id, attempt);
-- Retention by age, and counting today's sent emails when the quota counter must be rebuilt.
CREATE INDEX ix_delivery_logs_created_at ON delivery_logs (created_at);

CREATE TABLE outbox_messages (
    id              bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    job_id          uuid        NOT NULL REFERENCES delivery_jobs (id) ON DELETE CASCADE,
    channel         text        NOT NULL,
    payload         jsonb       NOT NULL,
    traceparent     text        NULL,
    tracestate      text        NULL,
    created_at      timestamptz NOT NULL,
    dispatched_at   timestamptz NULL,
    attempts        integer     NOT NULL,
    last_error      text        NULL,
    CONSTRAINT ck_outbox_messages_channel CHECK (channel IN ('in_app', 'email')),
    CONSTRAINT ck_outbox_messages_attempts CHECK (attempts >= 0)
);

CREATE INDEX ix_outbox_messages_undispatched ON outbox_messages (id) WHERE dispatched_at IS NULL;
CREATE INDEX ix_outbox_messages_dispatched_at ON outbox_messages (dispatched_at) WHERE dispatched_at IS NOT NULL;
CREATE INDEX ix_outbox_messages_job_id ON outbox_messages (job_id);

-- Wakes the outbox relay (LISTEN outbox_messages_inserted) when a transaction that wrote outbox rows commits.
-- Postgres delivers notifications only on commit and folds identical ones within a transaction.
CREATE FUNCTION notify_outbox_messages_inserted() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('outbox_messages_inserted', '');
    RETURN NULL;
END;
$$;

CREATE TRIGGER tr_outbox_messages_notify
    AFTER INSERT ON outbox_messages
    FOR EACH STATEMENT EXECUTE FUNCTION notify_outbox_messages_inserted();

CREATE TABLE notification_preferences (
    user_id         text        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    scope           text        NOT NULL,
    scope_key       text        NOT NULL,
    channel         text        NOT NULL,
    enabled         boolean     NOT NULL,
    delivery_mode   text        NOT NULL,
    updated_at      timestamptz NOT NULL,
    PRIMARY KEY (user_id, scope, scope_key, channel),
    CONSTRAINT ck_notification_preferences_scope CHECK (scope IN ('category', 'type')),
    CONSTRAINT ck_notification_preferences_channel CHECK (channel IN ('in_app', 'email')),
    CONSTRAINT ck_notification_preferences_delivery_mode CHECK (delivery_mode IN ('immediate', 'digest')),
    -- Only email is batched into digests.
    CONSTRAINT ck_notification_preferences_digest_is_email CHECK (delivery_mode = 'immediate' OR channel = 'email')
);

CREATE TABLE digest_schedules (
    id                  uuid        PRIMARY KEY,
    user_id             text        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    frequency           text        NOT NULL,
    delivery_time       time        NOT NULL,
    delivery_day        smallint    NULL,
    time_zone           text        NOT NULL,
    max_items           integer     NOT NULL,
    included_categories text[]      NOT NULL,
    active              boolean     NOT NULL,
    last_sent_at        timestamptz NULL,
    next_due_at         timestamptz NOT NULL,
    created_at          timestamptz NOT NULL,
    updated_at          timestamptz NOT NULL,
    CONSTRAINT ck_digest_schedules_frequency CHECK (frequency IN ('daily', 'weekly', 'monthly')),
    CONSTRAINT ck_digest_schedules_delivery_day CHECK (
        (frequency = 'daily' AND delivery_day IS NULL)
        OR (frequency = 'weekly' AND delivery_day BETWEEN 1 AND 7)
        OR (frequency = 'monthly' AND delivery_day BETWEEN 1 AND 31)),
    CONSTRAINT ck_digest_schedules_max_items CHECK (max_items > 0)
);

CREATE INDEX ix_digest_schedules_due ON digest_schedules (next_due_at) WHERE active;
CREATE INDEX ix_digest_schedules_user_id ON digest_schedules (user_id);

CREATE TABLE email_usage_snapshots (
    day             date        PRIMARY KEY,
    sent_count      integer     NOT NULL,
    snapshot_at     timestamptz NOT NULL,
    CONSTRAINT ck_email_usage_snapshots_sent_count CHECK (sent_count >= 0)
);

CREATE TABLE dead_letters (
    id                  uuid        PRIMARY KEY,
    job_id              uuid        NOT NULL REFERENCES delivery_jobs (id) ON DELETE CASCADE,
    channel             text        NOT NULL,
    error_type          text        NOT NULL,
    http_status_code    integer     NULL,
    provider_response   text        NULL,
    error_message       text        NULL,
    attempt_history     jsonb       NOT NULL,
    created_at          timestamptz NOT NULL,
    updated_at          timestamptz NOT NULL,
    requeued_at         timestamptz NULL,
    requeue_count       integer     NOT NULL,
    CONSTRAINT ck_dead_letters_channel CHECK (channel IN ('in_app', 'email')),
    CONSTRAINT ck_dead_letters_error_type CHECK (error_type IN ('transient', 'permanent', 'quota')),
    CONSTRAINT ck_dead_letters_requeue_count CHECK (requeue_count >= 0)
);

-- One row per job: dead-lettering a requeued job again updates its row.
CREATE UNIQUE INDEX ux_dead_letters_job_id ON dead_letters (job_id);
CREATE INDEX ix_dead_letters_created_at ON dead_letters (created_at DESC);
CREATE INDEX ix_dead_letters_error_type_created_at ON dead_letters (error_type, created_at DESC);
CREATE INDEX ix_dead_letters_channel_created_at ON dead_letters (channel, created_at DESC);

CREATE TABLE cron_job_executions (
    id              uuid        PRIMARY KEY,
    job_name        text        NOT NULL,
    started_at      timestamptz NOT NULL,
    completed_at    timestamptz NULL,
    duration_ms     bigint      NULL,
    status          text        NOT NULL,
    results         jsonb       NULL,
    error_message   text        NULL,
    CONSTRAINT ck_cron_job_executions_status CHECK (status IN ('running', 'completed', 'failed'))
);

CREATE INDEX ix_cron_job_executions_job_name_started_at ON cron_job_executions (job_name, started_at DESC);
CREATE INDEX ix_cron_job_executions_running ON cron_job_executions (job_name) WHERE status = 'running';

CREATE TABLE idempotency_keys (
    scope                   text        NOT NULL,
    key                     text        NOT NULL,
    request_hash            text        NOT NULL,
    response_status_code    integer     NULL,
    response_body           jsonb       NULL,
    created_at              timestamptz NOT NULL,
    completed_at            timestamptz NULL,
    expires_at              timestamptz NOT NULL,
    PRIMARY KEY (scope, key),
    -- A completed key carries the response it replays.
    CONSTRAINT ck_idempotency_keys_completed CHECK ((completed_at IS NULL) = (response_status_code IS NULL))
);

CREATE INDEX ix_idempotency_keys_expires_at ON idempotency_keys (expires_at);
