-- The W3C traceparent of the application's submission: every later change of it continues that trace, so a case
-- from its submission to its payment instructions and notices is one trace (jobbro.tracing.case).
ALTER TABLE applications ADD COLUMN traceparent text;
