-- The timer ends confirmed placements whose planned last day is over (PlacementEnded, planned), looking them up by
-- their end; only confirmed placements are looked for.
CREATE INDEX applications_running_by_end ON applications (ends_on) WHERE state = 'confirmed';

-- A change to a placement is checked against the citizen's other applications (one placement at a time).
CREATE INDEX applications_by_citizen ON applications ((aggregate->>'citizen_ref'));
