-- How many of the notifications folded into a digest its email lists, newest first, before "and N more". Chosen by
-- the scheduler when it creates the digest job (the schedule's max items, or the default digest's), read by the
-- worker when it renders the email; set exactly on digest jobs.
ALTER TABLE delivery_jobs ADD COLUMN digest_max_items integer NULL;
ALTER TABLE delivery_jobs ADD CONSTRAINT ck_delivery_jobs_digest_max_items
    CHECK ((kind = 'digest') = (digest_max_items IS NOT NULL) AND (digest_max_items IS NULL OR digest_max_items > 0));
