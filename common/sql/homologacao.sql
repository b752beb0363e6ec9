-- Homologação: one case per order (or per package sent by hand), and every check of it with its result.
-- Idempotent: safe to apply on every start.
CREATE TABLE IF NOT EXISTS homologacao_cases (
    case_id      text PRIMARY KEY,
    order_id     text UNIQUE,                   -- the ERP order it was opened for (null: sent by hand)
    case_json    jsonb NOT NULL,                -- homologacao.case.Case
    documents    text,                          -- where its documents were read from (folder or URI)
    status       text,                          -- of the latest check: approved | pending | rejected
    opened_at    timestamptz NOT NULL DEFAULT now(),
    checked_at   timestamptz
);

CREATE TABLE IF NOT EXISTS homologacao_checks (
    id           bigserial PRIMARY KEY,
    case_id      text NOT NULL REFERENCES homologacao_cases (case_id) ON DELETE CASCADE,
    status       text NOT NULL,
    result       jsonb NOT NULL,                -- homologacao.check.CheckResult
    checked_at   timestamptz NOT NULL DEFAULT now(),
    run_id       bigint,                        -- job_runs.id of the workflow run; null for the endpoint
    sent_at      timestamptz,                   -- status accepted by the ERP
    send_error   text                           -- the last failure to send it
);
CREATE INDEX IF NOT EXISTS homologacao_checks_case_idx ON homologacao_checks (case_id, id);
CREATE INDEX IF NOT EXISTS homologacao_checks_unsent_idx ON homologacao_checks (id) WHERE sent_at IS NULL;
