-- How each wage-subsidy instruction was worked out: the wage report it pays and the calculation as its event
-- carries it (contracts.benefits.PaymentCalculation), for the back-office, operators and auditors. A reissued
-- instruction gets its own copy, so every instruction id answers with its calculation.
CREATE TABLE payment_calculations (
    instruction_id uuid  PRIMARY KEY REFERENCES payment_instructions,
    report_id      uuid  NOT NULL REFERENCES wage_reports,
    calculation    jsonb NOT NULL
);
CREATE INDEX payment_calculations_by_report ON payment_calculations (report_id);
