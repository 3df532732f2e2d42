-- A citizen's circumstances (target group, birth date, unemployment, single parent, education) are sealed under
-- their data key (jobbro/shredding.py) in profile_sealed, as JSON: erasing the citizen leaves them unreadable in every
-- copy of the row. What the payment run pays by (municipality, benefit, rates) stays in clear beside the ledger.
-- Rows imported before keep the clear columns until `python -m services.benefits seal-registry` seals them (it runs
-- at every start of the service too), or the citizen is imported again or erased (docs/privacy.md).
ALTER TABLE citizens
    ADD COLUMN profile_sealed bytea,
    ALTER COLUMN target_group DROP NOT NULL,
    ALTER COLUMN birth_date DROP NOT NULL,
    ALTER COLUMN single_parent DROP NOT NULL,
    ALTER COLUMN upper_secondary_or_vocational_education DROP NOT NULL,
    ALTER COLUMN newly_graduated DROP NOT NULL,
    ADD CONSTRAINT citizens_profile_sealed_or_clear CHECK ((profile_sealed IS NULL) = (birth_date IS NOT NULL));
CREATE INDEX citizens_profile_in_clear ON citizens (citizen_ref) WHERE profile_sealed IS NULL;
