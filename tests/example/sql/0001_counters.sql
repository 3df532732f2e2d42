CREATE TABLE counters (
    counter text PRIMARY KEY,
    value   bigint NOT NULL,
    version integer NOT NULL
);
