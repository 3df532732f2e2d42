-- One spelling per target group (event catalog 1.1.0): the two groups first spelled otherwise take their benefit's
-- name, as every other group does. Readers of events and rule data still accept the old spellings.
UPDATE assessments SET target_group = 'jobafklaringsydelse' WHERE target_group = 'jobafklaring';
UPDATE assessments SET target_group = 'ressourceforloebsydelse' WHERE target_group = 'ressourceforloeb';
