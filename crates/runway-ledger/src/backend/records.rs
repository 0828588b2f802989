//! The append-only history: records with their events and check results,
//! written in one transaction each and read back whole or as a listing.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use runway_core::{CheckResult, Evidence, Status};
use sqlx::{ColumnIndex, Encode, Executor, IntoArguments, Row, Type};

use super::{Column, Dialect, SqlLedger};
use crate::{Event, EventKind, Filter, Guard, Kind, LedgerError, Record, Result};

/// How timestamps are stored: fixed width, so text order is time order.
pub(super) fn ts(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

fn parse_ts(s: &str) -> Result<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .map(|d| d.with_timezone(&Utc))
        .map_err(|e| LedgerError::Corrupt {
            what: format!("bad timestamp `{s}`: {e}"),
        })
}

fn parse_json(s: &str) -> Result<serde_json::Value> {
    serde_json::from_str(s).map_err(|e| LedgerError::Corrupt {
        what: format!("bad JSON in the ledger: {e}"),
    })
}

fn status_from_str(s: &str) -> Result<Status> {
    match s {
        "pass" => Ok(Status::Pass),
        "warn" => Ok(Status::Warn),
        "fail" => Ok(Status::Fail),
        "skip" => Ok(Status::Skip),
        other => Err(LedgerError::Corrupt {
            what: format!("unknown check status `{other}`"),
        }),
    }
}

/// A `WHERE` clause over `records r` with its `$N` parameters, all text.
fn where_clause(f: &Filter) -> (String, Vec<String>) {
    let mut parts = Vec::new();
    let mut binds = Vec::new();
    let mut push = |col: &str, op: &str, v: String| {
        binds.push(v);
        parts.push(format!("r.{col} {op} ${}", binds.len()));
    };
    if let Some(v) = &f.id {
        push("id", "=", v.clone());
    }
    if let Some(v) = f.kind {
        push("kind", "=", v.as_str().to_owned());
    }
    if let Some(v) = &f.environment {
        push("environment", "=", v.clone());
    }
    if let Some(v) = &f.version {
        push("version", "=", v.clone());
    }
    if let Some(v) = &f.ref_id {
        push("ref_id", "=", v.clone());
    }
    if let Some(v) = f.since {
        push("created_at", ">=", ts(v));
    }
    if let Some(v) = f.until {
        push("created_at", "<", ts(v));
    }
    if parts.is_empty() {
        ("1 = 1".to_owned(), binds)
    } else {
        (parts.join(" AND "), binds)
    }
}

/// One element of [`Ledger::query_latest`]'s JSON array: a record's `seq` and
/// columns, then its latest status event's (all null when it has none).
type LatestRow = (
    i64,
    String,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    serde_json::Value,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<serde_json::Value>,
);

fn decode_latest(text: &str) -> Result<Vec<Record>> {
    let mut rows: Vec<LatestRow> =
        serde_json::from_str(text).map_err(|e| LedgerError::Corrupt {
            what: format!("unreadable record listing: {e}"),
        })?;
    // Oldest first, as `query` returns them; fixed-width timestamps sort as text.
    rows.sort_unstable_by(|a, b| (&a.3, a.0).cmp(&(&b.3, b.0)));
    let mut records = Vec::with_capacity(rows.len());
    for (
        _,
        id,
        kind,
        created_at,
        operator,
        environment,
        version,
        ref_id,
        body,
        at,
        e_operator,
        e_kind,
        status,
        note,
        data,
    ) in rows
    {
        let mut events = Vec::new();
        if let (Some(at), Some(e_operator), Some(e_kind)) = (at, e_operator, e_kind) {
            events.push(Event {
                at: parse_ts(&at)?,
                operator: e_operator,
                kind: EventKind::parse(&e_kind)?,
                status,
                note,
                data: data.unwrap_or(serde_json::Value::Null),
            });
        }
        records.push(Record {
            id,
            kind: kind.parse()?,
            created_at: parse_ts(&created_at)?,
            operator,
            environment,
            version,
            ref_id,
            body,
            events,
            checks: Vec::new(),
        });
    }
    Ok(records)
}

const INSERT_RECORD: &str = "INSERT INTO records (id, kind, created_at, operator, environment, version, ref_id, body) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";
const INSERT_EVENT: &str = "INSERT INTO events (record_id, at, operator, kind, status, note, data) \
     VALUES ($1, $2, $3, $4, $5, $6, $7)";

/// Check results per multi-row insert; well under both databases' parameter limits.
const CHECK_CHUNK: usize = 500;

/// A multi-row insert of `rows` check results, eight parameters each.
fn insert_checks(rows: usize) -> String {
    let mut sql = String::from(
        "INSERT INTO check_results \
         (verification_id, idx, check_id, status, message, duration_ms, hint, evidence) VALUES ",
    );
    for row in 0..rows {
        if row > 0 {
            sql.push_str(", ");
        }
        let p = row * 8;
        let params: Vec<String> = (1..=8).map(|k| format!("${}", p + k)).collect();
        sql.push('(');
        sql.push_str(&params.join(", "));
        sql.push(')');
    }
    sql
}

impl<D> SqlLedger<D>
where
    D: Dialect,
    for<'c> &'c mut D::Connection: Executor<'c, Database = D>,
    for<'q> D::Arguments<'q>: IntoArguments<'q, D>,
    for<'s> &'s str: ColumnIndex<D::Row> + Encode<'s, D> + Type<D>,
    for<'s> Option<&'s str>: Encode<'s, D> + Type<D>,
    usize: ColumnIndex<D::Row>,
    String: Column<D>,
    Option<String>: Column<D>,
    i64: Column<D>,
    Option<i64>: Column<D>,
    f64: Column<D>,
    Option<f64>: Column<D>,
{
    async fn insert_event(
        &self,
        conn: &mut <D as sqlx::Database>::Connection,
        id: &str,
        e: &Event,
    ) -> Result<()> {
        sqlx::query(INSERT_EVENT)
            .bind(id)
            .bind(ts(e.at))
            .bind(&e.operator)
            .bind(e.kind.as_str())
            .bind(e.status.as_deref())
            .bind(e.note.as_deref())
            .bind(e.data.to_string())
            .execute(&mut *conn)
            .await
            .map_err(|err| self.db("appending an event", err))?;
        Ok(())
    }

    async fn insert_one(
        &self,
        conn: &mut <D as sqlx::Database>::Connection,
        record: &Record,
    ) -> Result<()> {
        let action = "writing a record";
        // The URL's own password never reaches the ledger, whatever redactor the caller set.
        let mut owned;
        let mut r = record;
        if self.url.password().is_some() {
            owned = record.clone();
            crate::redact::redact_record(&self.url_redactor, &mut owned);
            r = &owned;
        }
        let inserted = sqlx::query(INSERT_RECORD)
            .bind(&r.id)
            .bind(r.kind.as_str())
            .bind(ts(r.created_at))
            .bind(&r.operator)
            .bind(r.environment.as_deref())
            .bind(r.version.as_deref())
            .bind(r.ref_id.as_deref())
            .bind(r.body.to_string())
            .execute(&mut *conn)
            .await;
        match inserted {
            Ok(_) => {}
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
                return Err(LedgerError::Duplicate { id: r.id.clone() });
            }
            Err(e) => return Err(self.db(action, e)),
        }
        for e in &r.events {
            self.insert_event(&mut *conn, &r.id, e).await?;
        }
        for (n, chunk) in r.checks.chunks(CHECK_CHUNK).enumerate() {
            let base = n * CHECK_CHUNK;
            let mut encoded = Vec::with_capacity(chunk.len());
            for c in chunk {
                let evidence =
                    serde_json::to_string(&c.evidence).map_err(|e| LedgerError::Invalid {
                        what: format!("cannot encode evidence of `{}`: {e}", c.id),
                    })?;
                encoded.push(evidence);
            }
            let sql = insert_checks(chunk.len());
            let mut q = sqlx::query(&sql);
            for (i, (c, evidence)) in chunk.iter().zip(encoded).enumerate() {
                q = q
                    .bind(r.id.clone())
                    .bind((base + i) as i64)
                    .bind(c.id.clone())
                    .bind(c.status.as_str())
                    .bind(c.message.clone())
                    .bind(c.duration_ms)
                    .bind(c.hint.clone())
                    .bind(evidence);
            }
            q.execute(&mut *conn)
                .await
                .map_err(|e| self.db(action, e))?;
        }
        Ok(())
    }

    async fn load(
        &self,
        conn: &mut <D as sqlx::Database>::Connection,
        filter: &Filter,
        with_checks: bool,
    ) -> Result<Vec<Record>> {
        let action = "reading records";
        let (w, binds) = where_clause(filter);
        let sql = format!(
            "SELECT r.id, r.kind, r.created_at, r.operator, r.environment, r.version, r.ref_id, r.body \
             FROM records r WHERE {w} ORDER BY r.created_at, r.seq"
        );
        let mut q = sqlx::query(&sql);
        for b in &binds {
            q = q.bind(b.as_str());
        }
        let rows = q
            .fetch_all(&mut *conn)
            .await
            .map_err(|e| self.db(action, e))?;
        let mut records = Vec::with_capacity(rows.len());
        let mut index: HashMap<String, usize> = HashMap::with_capacity(rows.len());
        for row in rows {
            let get = |c: &str| row.try_get::<String, _>(c);
            let opt = |c: &str| row.try_get::<Option<String>, _>(c);
            let id = get("id").map_err(|e| self.db(action, e))?;
            let kind: Kind = get("kind").map_err(|e| self.db(action, e))?.parse()?;
            let record = Record {
                kind,
                created_at: parse_ts(&get("created_at").map_err(|e| self.db(action, e))?)?,
                operator: get("operator").map_err(|e| self.db(action, e))?,
                environment: opt("environment").map_err(|e| self.db(action, e))?,
                version: opt("version").map_err(|e| self.db(action, e))?,
                ref_id: opt("ref_id").map_err(|e| self.db(action, e))?,
                body: parse_json(&get("body").map_err(|e| self.db(action, e))?)?,
                events: Vec::new(),
                checks: Vec::new(),
                id: id.clone(),
            };
            index.insert(id, records.len());
            records.push(record);
        }
        if records.is_empty() {
            return Ok(records);
        }

        let sql = format!(
            "SELECT e.record_id, e.at, e.operator, e.kind, e.status, e.note, e.data \
             FROM events e JOIN records r ON r.id = e.record_id WHERE {w} ORDER BY e.seq"
        );
        let mut q = sqlx::query(&sql);
        for b in &binds {
            q = q.bind(b.as_str());
        }
        let rows = q
            .fetch_all(&mut *conn)
            .await
            .map_err(|e| self.db(action, e))?;
        for row in rows {
            let get = |c: &str| row.try_get::<String, _>(c);
            let opt = |c: &str| row.try_get::<Option<String>, _>(c);
            let rid = get("record_id").map_err(|e| self.db(action, e))?;
            let Some(&i) = index.get(&rid) else { continue };
            records[i].events.push(Event {
                at: parse_ts(&get("at").map_err(|e| self.db(action, e))?)?,
                operator: get("operator").map_err(|e| self.db(action, e))?,
                kind: EventKind::parse(&get("kind").map_err(|e| self.db(action, e))?)?,
                status: opt("status").map_err(|e| self.db(action, e))?,
                note: opt("note").map_err(|e| self.db(action, e))?,
                data: parse_json(&get("data").map_err(|e| self.db(action, e))?)?,
            });
        }

        let wants_checks = with_checks
            && filter.kind.is_none_or(|k| k == Kind::Verification)
            && records.iter().any(|r| r.kind == Kind::Verification);
        if wants_checks {
            let sql = format!(
                "SELECT c.verification_id, c.check_id, c.status, c.message, c.duration_ms, c.hint, c.evidence \
                 FROM check_results c JOIN records r ON r.id = c.verification_id WHERE {w} \
                 ORDER BY c.verification_id, c.idx"
            );
            let mut q = sqlx::query(&sql);
            for b in &binds {
                q = q.bind(b.as_str());
            }
            let rows = q
                .fetch_all(&mut *conn)
                .await
                .map_err(|e| self.db(action, e))?;
            for row in rows {
                let get = |c: &str| row.try_get::<String, _>(c);
                let rid = get("verification_id").map_err(|e| self.db(action, e))?;
                let Some(&i) = index.get(&rid) else { continue };
                let evidence: Evidence =
                    serde_json::from_str(&get("evidence").map_err(|e| self.db(action, e))?)
                        .map_err(|e| LedgerError::Corrupt {
                            what: format!("bad evidence in verification `{rid}`: {e}"),
                        })?;
                records[i].checks.push(CheckResult {
                    id: get("check_id").map_err(|e| self.db(action, e))?,
                    status: status_from_str(&get("status").map_err(|e| self.db(action, e))?)?,
                    message: get("message").map_err(|e| self.db(action, e))?,
                    duration_ms: row
                        .try_get::<f64, _>("duration_ms")
                        .map_err(|e| self.db(action, e))?,
                    hint: row
                        .try_get::<Option<String>, _>("hint")
                        .map_err(|e| self.db(action, e))?,
                    evidence,
                });
            }
        }
        Ok(records)
    }

    pub(super) async fn insert_batch(&self, records: &[Record]) -> Result<()> {
        let action = "writing a record";
        let mut tx = self.begin_write().await.map_err(|e| self.db(action, e))?;
        for record in records {
            self.insert_one(&mut tx, record).await?;
        }
        tx.commit().await.map_err(|e| self.db(action, e))
    }

    pub(super) async fn append_event(
        &self,
        id: &str,
        event: &Event,
        guard: Guard<'_>,
    ) -> Result<()> {
        let action = "appending an event";
        let mut event = event.clone();
        if let Some(n) = &mut event.note {
            *n = self.url_redactor.redact(n);
        }
        if self.url.password().is_some() {
            crate::redact::redact_json(&self.url_redactor, &mut event.data);
        }
        let mut tx = self.begin_write().await.map_err(|e| self.db(action, e))?;
        let found: Option<String> = sqlx::query_scalar(D::LOCK_RECORD)
            .bind(id)
            .fetch_optional(&mut *tx)
            .await
            .map_err(|e| self.db(action, e))?;
        if found.is_none() {
            return Err(LedgerError::NotFound { id: id.to_owned() });
        }
        let filter = Filter {
            id: Some(id.to_owned()),
            ..Filter::default()
        };
        let record = self
            .load(&mut tx, &filter, false)
            .await?
            .pop()
            .ok_or_else(|| LedgerError::NotFound { id: id.to_owned() })?;
        guard(&record)?;
        self.insert_event(&mut tx, id, &event).await?;
        tx.commit().await.map_err(|e| self.db(action, e))
    }

    pub(super) async fn query(&self, filter: &Filter, with_checks: bool) -> Result<Vec<Record>> {
        let action = "reading records";
        // One read transaction, so the three queries see one snapshot.
        let mut tx = self
            .pool
            .begin_with(D::BEGIN_READ)
            .await
            .map_err(|e| self.db(action, e))?;
        let records = self.load(&mut tx, filter, with_checks).await?;
        tx.commit().await.map_err(|e| self.db(action, e))?;
        Ok(records)
    }

    pub(super) async fn query_latest(&self, filter: &Filter) -> Result<Vec<Record>> {
        let action = "reading records";
        let (w, binds) = where_clause(filter);
        // One row holding a JSON array of every record: moving thousands of
        // rows one at a time costs more than the query itself.
        let sql = format!(
            "{} FROM records r LEFT JOIN events e ON e.seq = \
             (SELECT MAX(x.seq) FROM events x WHERE x.record_id = r.id AND x.status IS NOT NULL) \
             WHERE {w}",
            D::LATEST_SELECT
        );
        let mut q = sqlx::query_scalar::<_, String>(&sql);
        for b in &binds {
            q = q.bind(b.as_str());
        }
        let text = q
            .fetch_one(&self.pool)
            .await
            .map_err(|e| self.db(action, e))?;
        decode_latest(&text)
    }

    pub(super) async fn ids_with_prefix(&self, prefix: &str, limit: i64) -> Result<Vec<String>> {
        // Ids are ASCII letters, digits and `-`, all below `~`.
        sqlx::query_scalar("SELECT id FROM records WHERE id >= $1 AND id < $2 ORDER BY id LIMIT $3")
            .bind(prefix)
            .bind(format!("{prefix}~"))
            .bind(limit)
            .fetch_all(&self.pool)
            .await
            .map_err(|e| self.db("looking up an id", e))
    }

    pub(super) async fn counts(&self) -> Result<Vec<(Kind, i64)>> {
        let rows =
            sqlx::query("SELECT kind, COUNT(*) AS n FROM records GROUP BY kind ORDER BY kind")
                .fetch_all(&self.pool)
                .await
                .map_err(|e| self.db("counting records", e))?;
        let mut out = Vec::new();
        for row in rows {
            let kind: String = row
                .try_get("kind")
                .map_err(|e| self.db("counting records", e))?;
            let n: i64 = row
                .try_get("n")
                .map_err(|e| self.db("counting records", e))?;
            out.push((kind.parse()?, n));
        }
        Ok(out)
    }
}
