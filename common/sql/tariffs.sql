-- ANEEL tariffs: every accepted row, the rows rejected with their reason, the derived residential tariff.
-- Idempotent: safe to apply on every start.
CREATE TABLE IF NOT EXISTS aneel_tariffs (
    row_hash          text PRIMARY KEY,  -- sha256 of the 17 parsed fields: a re-run writes nothing twice
    generated_on      date NOT NULL,
    reh               text NOT NULL,
    sigla             text NOT NULL,
    cnpj              char(14) NOT NULL,
    valid_from        date NOT NULL,
    valid_to          date NOT NULL,
    tariff_base       text NOT NULL,
    subgroup          text NOT NULL,
    modality          text NOT NULL,
    consumer_class    text NOT NULL,
    subclass          text NOT NULL,
    detail            text NOT NULL,
    time_slot         text NOT NULL,
    unit              text NOT NULL,
    accessing_agent   text NOT NULL,
    tusd              double precision NOT NULL,  -- R$ per unit (MWh or kW), as published
    te                double precision NOT NULL,  -- R$/MWh
    source            text NOT NULL,
    line              integer NOT NULL,
    first_seen_run    bigint
);
CREATE INDEX IF NOT EXISTS aneel_tariffs_cnpj_idx ON aneel_tariffs (cnpj, valid_from);

CREATE TABLE IF NOT EXISTS tariff_rejects (
    id              bigserial PRIMARY KEY,
    source          text NOT NULL,
    line            integer NOT NULL,
    raw             text NOT NULL,
    reason          text NOT NULL,
    raw_hash        text NOT NULL,
    first_seen_run  bigint,
    last_seen_run   bigint,
    UNIQUE (source, line, raw_hash, reason)
);
-- Every rejects table tells when a reject was first and last seen (common/rejects.py).
ALTER TABLE tariff_rejects ADD COLUMN IF NOT EXISTS first_seen_at timestamptz NOT NULL DEFAULT now();
ALTER TABLE tariff_rejects ADD COLUMN IF NOT EXISTS last_seen_at timestamptz NOT NULL DEFAULT now();

-- B1 residential conventional tariff per utility (CNPJ), as derived for the date `derived_on`.
CREATE TABLE IF NOT EXISTS residential_tariffs (
    cnpj            char(14) NOT NULL,
    derived_on      date NOT NULL,
    sigla           text NOT NULL,
    reh             text NOT NULL,
    valid_from      date NOT NULL,
    valid_to        date NOT NULL,
    tusd_brl_kwh    double precision NOT NULL,  -- the TUSD share, what the Fio B rule needs
    te_brl_kwh      double precision NOT NULL,
    tariff_brl_kwh  double precision NOT NULL,  -- TUSD + TE, R$/kWh without taxes
    PRIMARY KEY (cnpj, derived_on)
);
CREATE INDEX IF NOT EXISTS residential_tariffs_sigla_idx ON residential_tariffs (sigla, derived_on);
