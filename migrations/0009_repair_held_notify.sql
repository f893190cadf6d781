-- Every change to repair jobs is announced on the waterline_repair_jobs
-- channel (after commit, as NOTIFY is), so each replica's cache of the
-- valves open jobs hold closed (repair.Jobs.RunHeld) refreshes at once
-- instead of every shutoff plan asking the database.
CREATE FUNCTION repair_jobs_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	PERFORM pg_notify('waterline_repair_jobs', '');
	RETURN NULL;
END $$;

CREATE TRIGGER repair_jobs_notify AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON repair_jobs
	FOR EACH STATEMENT EXECUTE FUNCTION repair_jobs_notify();
