-- Every in-app message carries the user's unread count, and counting it walked ix_notifications_unread at about 1 µs per
-- unread row: a user with 2,000 unread notifications cost 2 ms of Postgres CPU per push, more than everything else the
-- push does. Triggers now keep one exact counter per user, so reading it costs the same for any backlog.
--
-- The triggers are per statement, so a batch send or "mark all read" touches each user's counter once. The rows they
-- upsert are sorted by user, so concurrent single-statement writers lock counters in the same order and cannot
-- deadlock. A user without a row has no unread notification.
CREATE TABLE inbox_counters (
    user_id text    PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    unread  integer NOT NULL
);

CREATE FUNCTION inbox_counters_count_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO inbox_counters AS counter (user_id, unread)
    SELECT user_id, count(*) FROM inserted
    WHERE read_at IS NULL AND archived_at IS NULL
    GROUP BY user_id
    ORDER BY user_id
    ON CONFLICT (user_id) DO UPDATE SET unread = counter.unread + EXCLUDED.unread;
    RETURN NULL;
END
$$;

-- Reading, un-reading, archiving and restoring all change the count; the net change per user is what is applied.
CREATE FUNCTION inbox_counters_count_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO inbox_counters AS counter (user_id, unread)
    SELECT user_id, sum(change)::integer FROM (
        SELECT user_id, 1 AS change FROM after_update WHERE read_at IS NULL AND archived_at IS NULL
        UNION ALL
        SELECT user_id, -1 AS change FROM before_update WHERE read_at IS NULL AND archived_at IS NULL
    ) changes
    GROUP BY user_id
    HAVING sum(change) <> 0
    ORDER BY user_id
    ON CONFLICT (user_id) DO UPDATE SET unread = counter.unread + EXCLUDED.unread;
    RETURN NULL;
END
$$;

-- Notifications are deleted only with their user, whose counter goes in the same cascade: update, never insert (an
-- insert would reference the user being deleted).
CREATE FUNCTION inbox_counters_count_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE inbox_counters AS counter SET unread = counter.unread - removed.count
    FROM (
        SELECT user_id, count(*)::integer AS count FROM deleted
        WHERE read_at IS NULL AND archived_at IS NULL
        GROUP BY user_id
    ) removed
    WHERE counter.user_id = removed.user_id;
    RETURN NULL;
END
$$;

CREATE TRIGGER tr_notifications_count_inserted AFTER INSERT ON notifications
    REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT EXECUTE FUNCTION inbox_counters_count_inserted();
CREATE TRIGGER tr_notifications_count_updated AFTER UPDATE ON notifications
    REFERENCING OLD TABLE AS before_update NEW TABLE AS after_update FOR EACH STATEMENT EXECUTE FUNCTION inbox_counters_count_updated();
CREATE TRIGGER tr_notifications_count_deleted AFTER DELETE ON notifications
    REFERENCING OLD TABLE AS deleted FOR EACH STATEMENT EXECUTE FUNCTION inbox_counters_count_deleted();

-- After the triggers, in the same transaction: creating them locked out writers until this commits, so the count
-- taken here and the triggers' changes after it add up exactly.
INSERT INTO inbox_counters (user_id, unread)
SELECT user_id, count(*) FROM notifications
WHERE read_at IS NULL AND archived_at IS NULL
GROUP BY user_id;
