-- The share ledger: what this HIP disclosed, to whom, under which consent (the DPDP Act 2023 makes
-- a data fiduciary answerable for every disclosure; the ledger is the answer). Rows are written by
-- transfer_pages_done (sql/schema/86_transfer_pages.sql), one per page pushed or given up on after
-- entries were sent. They hold references and checksums, no clinical data, so they stay when the
-- consent is revoked or expires and its records' copies are deleted.
--
-- Append-only: UPDATE and TRUNCATE are refused, and DELETE only of rows older than
-- abdm_hip.share_ledger_retention_days (abdm_hip.purge_share_ledger() does that, as the admin).

CREATE OR REPLACE FUNCTION abdm_hip_internal.share_ledger_guard() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    IF OLD.shared_at > now() - make_interval(days => current_setting('abdm_hip.share_ledger_retention_days')::int) THEN
      RAISE EXCEPTION 'abdm_hip.share_ledger is append-only: row % (shared %) is within abdm_hip.share_ledger_retention_days (%)',
        OLD.id, OLD.shared_at, current_setting('abdm_hip.share_ledger_retention_days') || ' days'
        USING ERRCODE = 'insufficient_privilege',
              HINT = 'Rows may be purged once older than the retention: SELECT abdm_hip.purge_share_ledger();';
    END IF;
    RETURN OLD;
  END IF;
  RAISE EXCEPTION 'abdm_hip.share_ledger is append-only: % is not allowed', TG_OP
    USING ERRCODE = 'insufficient_privilege';
END
$$;

CREATE OR REPLACE TRIGGER share_ledger_append_only BEFORE UPDATE OR DELETE ON abdm_hip.share_ledger
  FOR EACH ROW EXECUTE FUNCTION abdm_hip_internal.share_ledger_guard();
CREATE OR REPLACE TRIGGER share_ledger_no_truncate BEFORE TRUNCATE ON abdm_hip.share_ledger
  FOR EACH STATEMENT EXECUTE FUNCTION abdm_hip_internal.share_ledger_guard();

-- Deletes the rows older than the retention; returns how many.
CREATE OR REPLACE FUNCTION abdm_hip.purge_share_ledger() RETURNS bigint
LANGUAGE sql SET search_path = pg_catalog, pg_temp AS $$
  WITH gone AS (
    DELETE FROM abdm_hip.share_ledger
    WHERE shared_at <= now() - make_interval(days => current_setting('abdm_hip.share_ledger_retention_days')::int)
    RETURNING 1)
  SELECT count(*) FROM gone;
$$;
COMMENT ON FUNCTION abdm_hip.purge_share_ledger() IS
  'Deletes share-ledger rows older than abdm_hip.share_ledger_retention_days (admin); returns how many.';

-- "What did we share about patient X, with whom, under which consent": one row per page, with
-- the HMIS's patient reference and the consent's ABHA address to search by.
CREATE OR REPLACE VIEW abdm_hip.shares WITH (security_barrier) AS
SELECT l.shared_at, l.hip_id, p.patient_ref, l.abha_address, l.hiu_id, l.consent_id, l.transaction_id,
       l.page_number, l.page_count, l.care_context_refs, cardinality(l.entry_checksums) AS entries,
       l.entry_checksums, l.bytes, l.outcome, l.error
FROM abdm_hip.share_ledger l, unnest(l.patient_refs) AS p(patient_ref);
COMMENT ON VIEW abdm_hip.shares IS
  'Every disclosure to a HIU, per patient: when, to which HIU, under which consent, which care contexts, entry checksums, outcome.';
GRANT SELECT ON abdm_hip.shares TO abdm_hip_app;
