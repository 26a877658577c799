//! The tables. `CREATE … IF NOT EXISTS` keeps opening an existing file harmless.
//!
//! `history` and `jobs` number their rows with a plain `INTEGER PRIMARY KEY`, not
//! `AUTOINCREMENT`: both are appended to in almost every transaction, and AUTOINCREMENT
//! rewrites the `sqlite_sequence` page each time, one more WAL frame per commit. Without it a
//! deleted highest id can be handed out again, which neither table minds (history rows are
//! never deleted; a job id is only a handle while the job exists). Files created before keep
//! their AUTOINCREMENT tables, which behave the same.

pub(super) const SCHEMA: &str = r#"
CREATE TABLE IF NOT EXISTS apps (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    url         TEXT NOT NULL,
    sdk         TEXT NOT NULL DEFAULT '',
    framework   TEXT NOT NULL DEFAULT '',
    app_version TEXT,
    checksum    TEXT NOT NULL DEFAULT '',
    synced_ms   INTEGER NOT NULL,
    error       TEXT
);
CREATE TABLE IF NOT EXISTS app_urls (
    url        TEXT PRIMARY KEY,
    added_ms   INTEGER NOT NULL,
    last_error TEXT
);
CREATE TABLE IF NOT EXISTS functions (
    id       TEXT PRIMARY KEY,
    app_id   TEXT NOT NULL,
    slug     TEXT NOT NULL UNIQUE,
    name     TEXT NOT NULL,
    config   TEXT NOT NULL,
    version  INTEGER NOT NULL DEFAULT 1,
    archived INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS events (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    body        TEXT NOT NULL,
    received_ms INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS events_by_time ON events (received_ms);
CREATE TABLE IF NOT EXISTS runs (
    id            TEXT PRIMARY KEY,
    function_id   TEXT NOT NULL,
    function_slug TEXT NOT NULL,
    app_id        TEXT NOT NULL,
    status        TEXT NOT NULL,
    event_ids     TEXT NOT NULL,
    created_ms    INTEGER NOT NULL,
    started_ms    INTEGER,
    ended_ms      INTEGER,
    output        TEXT,
    error         TEXT,
    version       INTEGER NOT NULL DEFAULT -1,
    force_plan    INTEGER NOT NULL DEFAULT 0,
    pending       TEXT NOT NULL DEFAULT '[]',
    meta          TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX IF NOT EXISTS runs_by_status ON runs (status, function_id);
CREATE TABLE IF NOT EXISTS run_events (
    event_id TEXT NOT NULL,
    run_id   TEXT NOT NULL,
    PRIMARY KEY (event_id, run_id)
);
CREATE TABLE IF NOT EXISTS steps (
    run_id TEXT NOT NULL,
    hash   TEXT NOT NULL,
    seq    INTEGER NOT NULL,
    value  TEXT NOT NULL,
    PRIMARY KEY (run_id, hash)
);
CREATE TABLE IF NOT EXISTS history (
    id        INTEGER PRIMARY KEY,
    run_id    TEXT NOT NULL,
    ts_ms     INTEGER NOT NULL,
    kind      TEXT NOT NULL,
    step_hash TEXT,
    name      TEXT,
    attempt   INTEGER,
    data      TEXT
);
CREATE INDEX IF NOT EXISTS history_by_run ON history (run_id, id);
CREATE TABLE IF NOT EXISTS jobs (
    id       INTEGER PRIMARY KEY,
    key      TEXT NOT NULL UNIQUE,
    run_id   TEXT,
    kind     TEXT NOT NULL,
    payload  TEXT NOT NULL,
    at_ms    INTEGER NOT NULL,
    order_ms INTEGER NOT NULL,
    claimed  INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS jobs_due ON jobs (claimed, at_ms);
CREATE INDEX IF NOT EXISTS jobs_by_run ON jobs (run_id);
CREATE TABLE IF NOT EXISTS pauses (
    id          TEXT PRIMARY KEY,
    run_id      TEXT NOT NULL,
    kind        TEXT NOT NULL,
    event_name  TEXT NOT NULL,
    expr        TEXT,
    step_hash   TEXT,
    correlation TEXT,
    expires_ms  INTEGER NOT NULL,
    created_ms  INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS pauses_by_event ON pauses (event_name);
CREATE INDEX IF NOT EXISTS pauses_by_corr ON pauses (correlation);
CREATE INDEX IF NOT EXISTS pauses_by_run ON pauses (run_id);
CREATE TABLE IF NOT EXISTS keys (
    scope      TEXT NOT NULL,
    key        TEXT NOT NULL,
    expires_ms INTEGER NOT NULL,
    PRIMARY KEY (scope, key)
);
CREATE TABLE IF NOT EXISTS limiter (
    scope TEXT PRIMARY KEY,
    state TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS buffers (
    scope       TEXT PRIMARY KEY,
    kind        TEXT NOT NULL,
    function_id TEXT NOT NULL,
    event_ids   TEXT NOT NULL,
    first_ms    INTEGER NOT NULL,
    deadline_ms INTEGER NOT NULL
);
"#;
