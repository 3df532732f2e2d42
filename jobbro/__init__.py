"""The runtime every Jobbro service shares: settings, logging, PostgreSQL, Kafka, outbox and inbox."""
