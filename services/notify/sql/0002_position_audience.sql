-- An application for a position names no citizen until the employer names one (`ApplicationSubmitted` then
-- completes the row), so the citizen's columns are empty until then.
ALTER TABLE audience ALTER COLUMN citizen_ref DROP NOT NULL;
ALTER TABLE audience ALTER COLUMN citizen_language DROP NOT NULL;
