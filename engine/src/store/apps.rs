//! Synced apps, the URLs to ping, and their functions.

use rusqlite::{Connection, params};
use serde_json::Value;

use super::{exec, one};
use crate::error::Result;

/// One synced app.
#[derive(Debug, Clone, serde::Serialize)]
pub(crate) struct AppRow {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) url: String,
    pub(crate) sdk: String,
    pub(crate) framework: String,
    pub(crate) app_version: Option<String>,
    pub(crate) checksum: String,
    pub(crate) synced_ms: i64,
    pub(crate) error: Option<String>,
}

/// One function of an app, with the config JSON it registered.
#[derive(Debug, Clone, serde::Serialize)]
pub(crate) struct FunctionRow {
    pub(crate) id: String,
    pub(crate) app_id: String,
    pub(crate) slug: String,
    pub(crate) name: String,
    pub(crate) config: Value,
    pub(crate) version: i64,
    pub(crate) archived: bool,
}

fn app_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<AppRow> {
    Ok(AppRow {
        id: r.get(0)?,
        name: r.get(1)?,
        url: r.get(2)?,
        sdk: r.get(3)?,
        framework: r.get(4)?,
        app_version: r.get(5)?,
        checksum: r.get(6)?,
        synced_ms: r.get(7)?,
        error: r.get(8)?,
    })
}

const APP_COLS: &str = "id, name, url, sdk, framework, app_version, checksum, synced_ms, error";
const FN_COLS: &str = "id, app_id, slug, name, config, version, archived";

fn fn_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<(FunctionRow, String)> {
    let config: String = r.get(4)?;
    Ok((
        FunctionRow {
            id: r.get(0)?,
            app_id: r.get(1)?,
            slug: r.get(2)?,
            name: r.get(3)?,
            config: Value::Null,
            version: r.get(5)?,
            archived: r.get::<_, i64>(6)? != 0,
        },
        config,
    ))
}

fn decode_fns(rows: Vec<(FunctionRow, String)>) -> Result<Vec<FunctionRow>> {
    rows.into_iter()
        .map(|(mut f, config)| {
            f.config = serde_json::from_str(&config)?;
            Ok(f)
        })
        .collect()
}

pub(crate) fn app_by_name(conn: &Connection, name: &str) -> Result<Option<AppRow>> {
    let sql = format!("SELECT {APP_COLS} FROM apps WHERE name = ?1");
    one(conn, &sql, [name], app_from_row)
}

pub(crate) fn apps(conn: &Connection) -> Result<Vec<AppRow>> {
    let sql = format!("SELECT {APP_COLS} FROM apps ORDER BY name");
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt
        .query_map([], app_from_row)?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

pub(crate) fn upsert_app(conn: &Connection, app: &AppRow) -> Result<()> {
    exec(
        conn,
        "INSERT INTO apps (id, name, url, sdk, framework, app_version, checksum, synced_ms, error)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
         ON CONFLICT(id) DO UPDATE SET name = ?2, url = ?3, sdk = ?4, framework = ?5,
           app_version = ?6, checksum = ?7, synced_ms = ?8, error = ?9",
        params![
            app.id,
            app.name,
            app.url,
            app.sdk,
            app.framework,
            app.app_version,
            app.checksum,
            app.synced_ms,
            app.error
        ],
    )?;
    Ok(())
}

/// Replaces the function set of an app: functions keep their id by slug, changed configs get
/// a new version, functions no longer registered are archived. Returns the active set.
pub(crate) fn replace_functions(
    conn: &Connection,
    app_id: &str,
    functions: &[(String, String, Value)],
    new_id: impl Fn(&str) -> String,
) -> Result<Vec<FunctionRow>> {
    exec(
        conn,
        "UPDATE functions SET archived = 1 WHERE app_id = ?1",
        [app_id],
    )?;

    for (slug, name, config) in functions {
        let text = config.to_string();
        let existing: Option<(String, String, i64)> = one(
            conn,
            "SELECT id, config, version FROM functions WHERE slug = ?1",
            [slug],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )?;
        match existing {
            Some((id, old, version)) => {
                let version = if old == text { version } else { version + 1 };
                exec(
                    conn,
                    "UPDATE functions SET app_id = ?2, name = ?3, config = ?4, version = ?5,
                       archived = 0 WHERE id = ?1",
                    params![id, app_id, name, text, version],
                )?;
            }
            None => {
                exec(
                    conn,
                    "INSERT INTO functions (id, app_id, slug, name, config, version, archived)
                     VALUES (?1, ?2, ?3, ?4, ?5, 1, 0)",
                    params![new_id(slug), app_id, slug, name, text],
                )?;
            }
        }
    }

    functions_of_app(conn, app_id)
}

pub(crate) fn functions_of_app(conn: &Connection, app_id: &str) -> Result<Vec<FunctionRow>> {
    let sql = format!("SELECT {FN_COLS} FROM functions WHERE app_id = ?1 AND archived = 0");
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt
        .query_map([app_id], fn_from_row)?
        .collect::<Result<Vec<_>, _>>()?;
    decode_fns(rows)
}

pub(crate) fn active_functions(conn: &Connection) -> Result<Vec<FunctionRow>> {
    let sql = format!("SELECT {FN_COLS} FROM functions WHERE archived = 0 ORDER BY slug");
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt
        .query_map([], fn_from_row)?
        .collect::<Result<Vec<_>, _>>()?;
    decode_fns(rows)
}

/// Finds a function by its UUID or its composite slug, archived ones included.
pub(crate) fn function(conn: &Connection, id_or_slug: &str) -> Result<Option<FunctionRow>> {
    let sql = format!("SELECT {FN_COLS} FROM functions WHERE id = ?1 OR slug = ?1");
    let row = one(conn, &sql, [id_or_slug], fn_from_row)?;
    Ok(decode_fns(row.into_iter().collect())?.pop())
}

pub(crate) fn add_app_url(conn: &Connection, url: &str, now: i64) -> Result<()> {
    exec(
        conn,
        "INSERT INTO app_urls (url, added_ms) VALUES (?1, ?2) ON CONFLICT(url) DO NOTHING",
        params![url, now],
    )?;
    Ok(())
}

pub(crate) fn set_app_url_error(conn: &Connection, url: &str, error: Option<&str>) -> Result<()> {
    exec(
        conn,
        "UPDATE app_urls SET last_error = ?2 WHERE url = ?1",
        params![url, error],
    )?;
    Ok(())
}

pub(crate) fn app_urls(conn: &Connection) -> Result<Vec<(String, Option<String>)>> {
    let mut stmt = conn.prepare_cached("SELECT url, last_error FROM app_urls ORDER BY added_ms")?;
    let rows = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}
