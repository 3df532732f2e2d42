-- Sealed CPR numbers name their key (services/benefits/cpr.py): 0x01, the key id's length, the key id, then the
-- nonce and ciphertext as before. Values sealed before carried no key id; they were sealed with the one key then
-- configured, which now has the key id `initial` in BENEFITS_CPR_KEYS.
UPDATE citizens
   SET cpr_sealed = '\x0107'::bytea || convert_to('initial', 'UTF8') || cpr_sealed;
