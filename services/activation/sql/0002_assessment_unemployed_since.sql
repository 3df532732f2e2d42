-- The unemployment start as the registry holds it (CitizenAssessed.unemployed_since): deadlines are counted from
-- this date, not from whole weeks counted back from the assessment. Null in assessments sent before benefits sent it.
ALTER TABLE assessments ADD COLUMN unemployed_since date;
