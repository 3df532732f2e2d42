-- Replay: one signed payload has one effect. A signed document is identified by the SHA-256 of the JWS payload,
-- which verification requires to be RFC 8785 canonical JSON, so a re-signature of the identical document (another
-- JWS, another certificate) has the same digest. The first use claims the digest in the transaction that records
-- its effect; a second use finds it and is answered with that application, or refused.
CREATE TABLE signed_payloads (
    payload_sha256 text        PRIMARY KEY,  -- hex
    application_id uuid        NOT NULL,
    purpose        text        NOT NULL,     -- application | citizen_named | final_confirmation
    claimed_at     timestamptz NOT NULL DEFAULT now()
);

-- The signatures already kept: their payload is the middle part of the JWS, base64url without padding.
INSERT INTO signed_payloads (payload_sha256, application_id, purpose, claimed_at)
SELECT DISTINCT ON (digest) digest, application_id, purpose, received_at
FROM (
    SELECT encode(sha256(decode(rpad(translate(split_part(jws, '.', 2), '-_', '+/'),
                                     (length(split_part(jws, '.', 2)) + 3) / 4 * 4, '='), 'base64')), 'hex') AS digest,
           application_id, purpose, received_at
    FROM signatures
) AS kept
ORDER BY digest, received_at
ON CONFLICT DO NOTHING;
