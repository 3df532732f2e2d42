-- Crypto-shredding of the registry (jobbro/shredding.py): a citizen's CPR number is sealed under the CPR key ring
-- and then under the citizen's own data key (citizen_keys), in cpr_shreddable; erasing the citizen destroys the
-- data key, so the number is unrecoverable while the citizen's placements and ledger stay under citizen_ref.
-- Rows imported before keep cpr_sealed (the ring alone) until the citizen is imported again.
-- Numbered 0004: 0003 is another change's.
ALTER TABLE citizens
    ALTER COLUMN cpr_sealed DROP NOT NULL,
    ADD COLUMN cpr_shreddable bytea,
    ADD CONSTRAINT citizens_cpr_sealed_once CHECK ((cpr_sealed IS NULL) <> (cpr_shreddable IS NULL));
