//! The PostgreSQL side of the engine seam (`db.rs`): one connection of
//! `tokio-postgres`, driven from the calling thread by a runtime of its own,
//! so that statements can be pipelined.
//!
//! # Why the async client, from plain threads
//! A round trip to the server is the unit of cost here (a loopback round
//! trip is two scheduler wake-ups on each side, about 0.18 ms on a 2-core
//! machine, against tens of µs for the statement itself). The blocking
//! `postgres` crate waits for every statement's answer before sending the
//! next; `tokio-postgres` sends requests as soon as they are made and
//! matches the answers in order, so statements the model does not need an
//! answer from ([`Db::defer`]: most writes, and `BEGIN`, `SAVEPOINT`,
//! `RELEASE`) are sent together with the next statement that needs one,
//! and independent reads go together ([`Db::rows_many`]). Each connection
//! owns a current-thread runtime and blocks on it (as the `postgres` crate
//! does inside), so the store is still called from plain threads, never
//! from a task of an async runtime: `coordinated` calls it from
//! `spawn_blocking` threads, and `pg.rs` moves opening and dropping off any
//! runtime.
//!
//! Each statement still carries its own `Sync`, so an error aborts the
//! transaction and the statements after it fail too (25P02); the first
//! error is the one reported.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::task::Poll;

use tokio_postgres::types::{IsNull, ToSql, Type};
use tokio_postgres::{Client, Statement};

use crate::db::{Db, Lock, Result, Row, SqlError, Value, COUNT_SHARDS};

/// `?N` placeholders as PostgreSQL's `$N` (the model's SQL has no `?`
/// anywhere else: no string literals, no JSON operators).
pub fn pg_placeholders(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '?' && chars.peek().is_some_and(char::is_ascii_digit) {
            out.push('$');
        } else {
            out.push(c);
        }
    }
    out
}

/// A statement waiting to be sent.
enum Queued {
    /// A statement without parameters, by the simple protocol (`BEGIN`,
    /// `SAVEPOINT op`, `COMMIT`).
    Simple(String),
    /// A prepared statement and its parameters; its row count is not read.
    Write(Statement, Vec<Value>),
}

/// What a pipelined statement is sent for.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Want {
    /// Its rows.
    Rows,
    /// The number of rows it changed.
    Count,
}

/// What one pipelined statement gave.
enum Answer {
    Done(u64),
    Rows(Vec<Row>),
}

/// A PostgreSQL connection with its prepared statements and the statements
/// it has not sent yet.
pub struct PgConn {
    runtime: tokio::runtime::Runtime,
    client: Client,
    /// The task that drives the connection (ends when it closes).
    task: tokio::task::JoinHandle<()>,
    /// The process that connected (a child of `fork()` shares the socket
    /// and must not say goodbye on it).
    pid: u32,
    statements: RefCell<HashMap<String, Statement>>,
    queue: RefCell<Vec<Queued>>,
    /// A statement sent ahead failed (the whole call must fail).
    ahead_failed: Cell<bool>,
    shard: i64,
}

impl PgConn {
    /// Connects with `config`; the connection's counts go to row `shard`
    /// of each spec.
    pub fn connect(config: &tokio_postgres::Config, shard: i64) -> Result<PgConn> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| SqlError::Type(format!("cannot start the client's runtime: {e}")))?;
        let (client, connection) = runtime.block_on(config.connect(tokio_postgres::NoTls))?;
        // Runs whenever the thread blocks on the runtime (every statement);
        // ends when the connection closes, which `Client::is_closed` shows.
        let task = runtime.spawn(async move {
            let _ = connection.await;
        });
        Ok(PgConn {
            runtime,
            client,
            task,
            pid: std::process::id(),
            statements: RefCell::new(HashMap::new()),
            queue: RefCell::new(Vec::new()),
            ahead_failed: Cell::new(false),
            shard: shard.rem_euclid(COUNT_SHARDS),
        })
    }

    /// Queues statements without parameters (sent with the next one that
    /// needs an answer).
    pub fn send_ahead(&self, sql: &str) {
        self.queue.borrow_mut().push(Queued::Simple(sql.to_owned()));
    }

    /// Runs statements without parameters now (with any queued before).
    pub fn batch(&self, sql: &str) -> Result<()> {
        self.send_ahead(sql);
        self.pipeline(&[]).map(drop)
    }

    /// Drops what was queued and not sent (the transaction is being rolled
    /// back), and forgets that a statement sent ahead failed.
    pub fn discard(&self) {
        self.queue.borrow_mut().clear();
        self.ahead_failed.set(false);
    }

    /// Whether the last failure came from a statement sent ahead (then the
    /// whole call fails: which operation it belonged to is not known).
    pub fn failed_ahead(&self) -> bool {
        self.ahead_failed.get()
    }

    /// Whether the connection is gone (the server closed it, or it broke).
    pub fn is_closed(&self) -> bool {
        self.client.is_closed()
    }

    fn statement(&self, sql: &str) -> Result<Statement> {
        if let Some(s) = self.statements.borrow().get(sql) {
            return Ok(s.clone());
        }
        let stmt = self
            .runtime
            .block_on(self.client.prepare(&pg_placeholders(sql)))?;
        self.statements
            .borrow_mut()
            .insert(sql.to_owned(), stmt.clone());
        Ok(stmt)
    }

    /// Sends the queued statements and then `asks`, all at once, and
    /// waits for every answer: those of `asks`, in order. The first error
    /// wins; if it came from a queued statement, `failed_ahead` says so.
    fn pipeline(&self, asks: &[(Statement, &[Value], Want)]) -> Result<Vec<Answer>> {
        let queued = std::mem::take(&mut *self.queue.borrow_mut());
        self.ahead_failed.set(false);
        let client = &self.client;
        let mut futures: Vec<Pending<'_>> = Vec::with_capacity(queued.len() + asks.len());
        for q in &queued {
            futures.push(match q {
                Queued::Simple(sql) => Box::pin(async move {
                    client.batch_execute(sql).await?;
                    Ok(Answer::Done(0))
                }),
                Queued::Write(stmt, params) => write(client, stmt, params),
            });
        }
        for (stmt, params, want) in asks {
            futures.push(match want {
                Want::Count => write(client, stmt, params),
                Want::Rows => Box::pin(async move {
                    let rows = client.query_raw(stmt, params.iter().map(PgParam)).await?;
                    Ok(Answer::Rows(collect(rows).await?))
                }),
            });
        }
        let answers = self.runtime.block_on(all_in_order(futures));
        let mut out = Vec::with_capacity(asks.len());
        for (i, answer) in answers.into_iter().enumerate() {
            match answer {
                Ok(a) if i >= queued.len() => out.push(a),
                Ok(_) => {}
                Err(e) => {
                    self.ahead_failed.set(i < queued.len());
                    return Err(e);
                }
            }
        }
        Ok(out)
    }
}

type Pending<'a> = Pin<Box<dyn Future<Output = Result<Answer>> + 'a>>;

/// A statement whose answer is its row count.
fn write<'a>(client: &'a Client, stmt: &'a Statement, params: &'a [Value]) -> Pending<'a> {
    Box::pin(async move {
        let n = client.execute_raw(stmt, params.iter().map(PgParam)).await?;
        Ok(Answer::Done(n))
    })
}

impl Drop for PgConn {
    /// Says goodbye to the server (`Terminate`) rather than dropping the
    /// socket, as the blocking `postgres` crate does: closes the client's
    /// side (the crate's hidden `__private_api_close`, which that crate
    /// uses for this) and lets the connection task finish, for at most a
    /// second. Only on a plain thread (`pg.rs` drops connections there),
    /// and only in the process that connected: in a child of `fork()` the
    /// socket is the parent's too, and closing it there would end the
    /// parent's session (the child's copy of the descriptor just closes).
    fn drop(&mut self) {
        if tokio::runtime::Handle::try_current().is_ok() || std::process::id() != self.pid {
            return;
        }
        self.client.__private_api_close();
        let task = &mut self.task;
        let _ = self.runtime.block_on(async {
            tokio::time::timeout(std::time::Duration::from_secs(1), task).await
        });
    }
}

/// Polls every future, in the order given, until all are done: each
/// request is sent on its future's first poll, so they reach the server in
/// this order.
async fn all_in_order<'a, T>(mut futures: Vec<Pin<Box<dyn Future<Output = T> + 'a>>>) -> Vec<T> {
    let mut done: Vec<Option<T>> = futures.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (f, slot) in futures.iter_mut().zip(done.iter_mut()) {
            if slot.is_none() {
                match f.as_mut().poll(cx) {
                    Poll::Ready(v) => *slot = Some(v),
                    Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            Poll::Pending
        } else {
            Poll::Ready(())
        }
    })
    .await;
    done.into_iter().flatten().collect()
}

/// The rows of a query's stream, as the seam's rows.
async fn collect(rows: tokio_postgres::RowStream) -> Result<Vec<Row>> {
    let mut rows = std::pin::pin!(rows);
    let mut out = Vec::new();
    while let Some(row) =
        std::future::poll_fn(|cx| futures_core::Stream::poll_next(rows.as_mut(), cx)).await
    {
        let row = row?;
        let values = (0..row.len())
            .map(|i| pg_value(&row, i))
            .collect::<Result<Vec<_>>>()?;
        out.push(Row { values });
    }
    Ok(out)
}

/// A [`Value`] bound to whatever type PostgreSQL inferred for its placeholder.
#[derive(Debug)]
struct PgParam<'a>(&'a Value);

type BoxError = Box<dyn std::error::Error + Sync + Send>;

impl ToSql for PgParam<'_> {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut bytes::BytesMut,
    ) -> std::result::Result<IsNull, BoxError> {
        match self.0 {
            Value::Null => Ok(IsNull::Yes),
            Value::Int(i) => match *ty {
                Type::INT8 => i.to_sql(ty, out),
                Type::INT4 => i32::try_from(*i)?.to_sql(ty, out),
                Type::INT2 => i16::try_from(*i)?.to_sql(ty, out),
                Type::BOOL => (*i != 0).to_sql(ty, out),
                Type::FLOAT8 => (*i as f64).to_sql(ty, out),
                Type::TEXT | Type::VARCHAR => i.to_string().as_str().to_sql(ty, out),
                _ => Err(format!("cannot bind an integer to a {ty} placeholder").into()),
            },
            Value::Real(f) => match *ty {
                Type::FLOAT8 => f.to_sql(ty, out),
                Type::FLOAT4 => (*f as f32).to_sql(ty, out),
                _ => Err(format!("cannot bind a float to a {ty} placeholder").into()),
            },
            Value::Text(s) => s.as_str().to_sql(ty, out),
            Value::Blob(b) => b.as_slice().to_sql(ty, out),
        }
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    tokio_postgres::types::to_sql_checked!();
}

fn pg_value(row: &tokio_postgres::Row, i: usize) -> Result<Value> {
    let ty = row.columns()[i].type_().clone();
    let v = match ty {
        Type::INT8 => row.try_get::<_, Option<i64>>(i)?.map(Value::Int),
        Type::INT4 => row
            .try_get::<_, Option<i32>>(i)?
            .map(|v| Value::Int(i64::from(v))),
        Type::INT2 => row
            .try_get::<_, Option<i16>>(i)?
            .map(|v| Value::Int(i64::from(v))),
        Type::BOOL => row
            .try_get::<_, Option<bool>>(i)?
            .map(|v| Value::Int(i64::from(v))),
        Type::FLOAT8 => row.try_get::<_, Option<f64>>(i)?.map(Value::Real),
        Type::TEXT | Type::VARCHAR | Type::NAME | Type::BPCHAR => {
            row.try_get::<_, Option<String>>(i)?.map(Value::Text)
        }
        Type::BYTEA => row.try_get::<_, Option<Vec<u8>>>(i)?.map(Value::Blob),
        other => return Err(SqlError::Type(format!("a column of type {other}"))),
    };
    Ok(v.unwrap_or(Value::Null))
}

impl Db for PgConn {
    fn exec(&self, sql: &str, params: &[Value]) -> Result<usize> {
        let stmt = self.statement(sql)?;
        match self.pipeline(&[(stmt, params, Want::Count)])?.pop() {
            Some(Answer::Done(n)) => Ok(usize::try_from(n).unwrap_or(usize::MAX)),
            _ => Ok(0),
        }
    }

    fn rows(&self, sql: &str, params: &[Value]) -> Result<Vec<Row>> {
        Ok(self.rows_many(&[(sql, params)])?.pop().unwrap_or_default())
    }

    fn rows_many(&self, queries: &[(&str, &[Value])]) -> Result<Vec<Vec<Row>>> {
        let asks = queries
            .iter()
            .map(|(sql, params)| Ok((self.statement(sql)?, *params, Want::Rows)))
            .collect::<Result<Vec<_>>>()?;
        Ok(self
            .pipeline(&asks)?
            .into_iter()
            .map(|a| match a {
                Answer::Rows(rows) => rows,
                Answer::Done(_) => Vec::new(),
            })
            .collect())
    }

    fn defer(&self, sql: &str, params: &[Value]) -> Result<()> {
        let stmt = self.statement(sql)?;
        self.queue
            .borrow_mut()
            .push(Queued::Write(stmt, params.to_vec()));
        Ok(())
    }

    fn lock(&self, lock: Lock) -> &'static str {
        match lock {
            Lock::Update => " FOR UPDATE",
            Lock::SkipLocked => " FOR UPDATE SKIP LOCKED",
            Lock::SpecClaims => " FOR NO KEY UPDATE",
        }
    }

    fn json_ids(&self, param: &str) -> String {
        format!("SELECT CAST(json_array_elements_text(CAST({param} AS json)) AS BIGINT)")
    }

    fn among(&self, column: &str, ids: &str) -> String {
        // `IN (query)` may become a hash join over the whole table when the
        // planner guesses many ids; an array from a subquery run once is
        // looked up in the index, one id at a time.
        format!("{column} = ANY(ARRAY({ids}))")
    }

    fn keep_namespaces(&self, namespaces: &str, delete: bool) -> Option<String> {
        // Transaction-scoped advisory locks, keyed by the store (the oid of
        // its work_specs table, so stores in other schemas of the database
        // never meet) and the namespace.
        Some(format!(
            "SELECT COUNT(pg_advisory_xact_lock{}('work_specs'::regclass::oid::int4, \
             (x.ns % 2147483647)::int4)) FROM ({namespaces}) x",
            if delete { "" } else { "_shared" }
        ))
    }

    fn count_shard(&self) -> i64 {
        self.shard
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders() {
        assert_eq!(
            pg_placeholders("UPDATE t SET a = ?2 WHERE id = ?1 AND b = ?10"),
            "UPDATE t SET a = $2 WHERE id = $1 AND b = $10"
        );
        assert_eq!(pg_placeholders("SELECT 1"), "SELECT 1");
    }
}
