-- One database per service (and the back-office stand-in), and Keycloak's: services share no tables.
CREATE DATABASE jobbro_subsidy;
CREATE DATABASE jobbro_benefits;
CREATE DATABASE jobbro_activation;
CREATE DATABASE jobbro_notify;
CREATE DATABASE jobbro_backoffice;
CREATE DATABASE keycloak;
