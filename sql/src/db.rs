//! The engine seam of the SQL model: the few calls `model.rs` makes on a
//! connection (run a statement, read its rows, send writes ahead), written
//! once over SQLite (`rusqlite`, here) and PostgreSQL (`tokio-postgres`,
//! in `pgconn.rs`).
//!
//! The model's SQL is the same text for both engines: placeholders are
//! written `?N` (SQLite's numbered form) and the PostgreSQL connection
//! rewrites them to `$N` once per statement text (the prepared statement is
//! cached under the original text). Values cross the seam as [`Value`]
//! (NULL, 64-bit integer, float, text, bytes), the storage classes SQLite
//! has; PostgreSQL binds them to whatever type the server inferred for the
//! placeholder (`bigint`, `integer`, `boolean`, `text`, `bytea`) and reads
//! those types back into them.
//!
//! The API mirrors the part of `rusqlite` the model used before the seam
//! existed (`prepare_cached(..)?.query_row(params![..], |r| r.get(0))
//! .optional()?`), so that the model's text changed as little as possible.

use std::fmt;

/// One value bound to a placeholder or read from a column.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// SQL NULL.
    Null,
    /// An integer (SQLite INTEGER, PostgreSQL bigint/integer/smallint/boolean).
    Int(i64),
    /// A float.
    Real(f64),
    /// Text.
    Text(String),
    /// Bytes (SQLite BLOB, PostgreSQL bytea).
    Blob(Vec<u8>),
}

/// A failure of the engine, or a value of the wrong type.
#[derive(Debug)]
pub enum SqlError {
    /// SQLite failed.
    Sqlite(rusqlite::Error),
    /// PostgreSQL failed (or the connection did).
    Pg(tokio_postgres::Error),
    /// `query_row` found no row (`optional()` turns it into `None`).
    NoRows,
    /// A column held a value the model cannot read as the type it wanted.
    Type(String),
}

impl fmt::Display for SqlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SqlError::Sqlite(e) => write!(f, "{e}"),
            SqlError::Pg(e) => match e.as_db_error() {
                Some(db) => write!(f, "{} ({})", db.message(), db.code().code()),
                None => write!(f, "{e}"),
            },
            SqlError::NoRows => write!(f, "no row"),
            SqlError::Type(why) => write!(f, "{why}"),
        }
    }
}

impl From<rusqlite::Error> for SqlError {
    fn from(e: rusqlite::Error) -> Self {
        SqlError::Sqlite(e)
    }
}

impl From<tokio_postgres::Error> for SqlError {
    fn from(e: tokio_postgres::Error) -> Self {
        SqlError::Pg(e)
    }
}

/// The seam's result.
pub type Result<T> = std::result::Result<T, SqlError>;

/// A value that can be bound to a placeholder.
pub trait ToValue {
    /// The value to bind.
    fn to_value(&self) -> Value;
}

impl ToValue for i64 {
    fn to_value(&self) -> Value {
        Value::Int(*self)
    }
}

impl ToValue for i32 {
    fn to_value(&self) -> Value {
        Value::Int(i64::from(*self))
    }
}

impl ToValue for bool {
    fn to_value(&self) -> Value {
        Value::Int(i64::from(*self))
    }
}

impl ToValue for f64 {
    fn to_value(&self) -> Value {
        Value::Real(*self)
    }
}

impl ToValue for str {
    fn to_value(&self) -> Value {
        Value::Text(self.to_owned())
    }
}

impl ToValue for String {
    fn to_value(&self) -> Value {
        Value::Text(self.clone())
    }
}

impl ToValue for [u8] {
    fn to_value(&self) -> Value {
        Value::Blob(self.to_vec())
    }
}

impl ToValue for Vec<u8> {
    fn to_value(&self) -> Value {
        Value::Blob(self.clone())
    }
}

impl<const N: usize> ToValue for [u8; N] {
    fn to_value(&self) -> Value {
        Value::Blob(self.to_vec())
    }
}

impl<T: ToValue> ToValue for Option<T> {
    fn to_value(&self) -> Value {
        match self {
            Some(v) => v.to_value(),
            None => Value::Null,
        }
    }
}

impl<T: ToValue + ?Sized> ToValue for &T {
    fn to_value(&self) -> Value {
        (**self).to_value()
    }
}

/// The values of a statement's placeholders, in order.
pub trait Params {
    /// The values.
    fn values(self) -> Vec<Value>;
}

impl Params for &[&dyn ToValue] {
    fn values(self) -> Vec<Value> {
        self.iter().map(|v| v.to_value()).collect()
    }
}

impl<T: ToValue, const N: usize> Params for [T; N] {
    fn values(self) -> Vec<Value> {
        self.iter().map(ToValue::to_value).collect()
    }
}

/// The values of several placeholders of different types (as rusqlite's).
macro_rules! params {
    () => {
        &[] as &[&dyn $crate::db::ToValue]
    };
    ($($x:expr),+ $(,)?) => {
        &[$(&$x as &dyn $crate::db::ToValue),+] as &[&dyn $crate::db::ToValue]
    };
}
pub(crate) use params;

/// A value that can be read from a column.
pub trait FromValue: Sized {
    /// The column's value as `Self`.
    fn from_value(v: &Value) -> Result<Self>;
}

fn wrong(v: &Value, wanted: &str) -> SqlError {
    SqlError::Type(format!("a column holds {v:?} where {wanted} was expected"))
}

impl FromValue for i64 {
    fn from_value(v: &Value) -> Result<Self> {
        match v {
            Value::Int(i) => Ok(*i),
            _ => Err(wrong(v, "an integer")),
        }
    }
}

impl FromValue for bool {
    fn from_value(v: &Value) -> Result<Self> {
        match v {
            Value::Int(i) => Ok(*i != 0),
            _ => Err(wrong(v, "a boolean (integer)")),
        }
    }
}

impl FromValue for f64 {
    fn from_value(v: &Value) -> Result<Self> {
        match v {
            Value::Real(f) => Ok(*f),
            Value::Int(i) => Ok(*i as f64),
            _ => Err(wrong(v, "a number")),
        }
    }
}

impl FromValue for String {
    fn from_value(v: &Value) -> Result<Self> {
        match v {
            Value::Text(s) => Ok(s.clone()),
            _ => Err(wrong(v, "text")),
        }
    }
}

impl FromValue for Vec<u8> {
    fn from_value(v: &Value) -> Result<Self> {
        match v {
            Value::Blob(b) => Ok(b.clone()),
            _ => Err(wrong(v, "bytes")),
        }
    }
}

impl<T: FromValue> FromValue for Option<T> {
    fn from_value(v: &Value) -> Result<Self> {
        match v {
            Value::Null => Ok(None),
            v => T::from_value(v).map(Some),
        }
    }
}

/// A column index (the type parameter mirrors rusqlite's `Row::get`).
pub trait ColumnIndex {
    /// The 0-based column.
    fn index(self) -> usize;
}

impl ColumnIndex for usize {
    fn index(self) -> usize {
        self
    }
}

/// One result row.
#[derive(Debug)]
pub struct Row {
    pub(crate) values: Vec<Value>,
}

impl Row {
    /// Column `i` as `T`.
    pub fn get<I: ColumnIndex, T: FromValue>(&self, i: I) -> Result<T> {
        let i = i.index();
        match self.values.get(i) {
            Some(v) => T::from_value(v),
            None => Err(SqlError::Type(format!("no column {i}"))),
        }
    }
}

/// What the model needs of a connection. Both engines run every call
/// inside a transaction the store opened.
pub trait Db {
    /// Runs a statement; the number of rows it changed.
    fn exec(&self, sql: &str, params: &[Value]) -> Result<usize>;
    /// Runs a query; all its rows.
    fn rows(&self, sql: &str, params: &[Value]) -> Result<Vec<Row>>;
    /// Runs several queries that do not depend on each other's answers
    /// (each may see what the ones before it changed); all their rows, in
    /// order. PostgreSQL sends them together: one round trip.
    fn rows_many(&self, queries: &[(&str, &[Value])]) -> Result<Vec<Vec<Row>>> {
        queries.iter().map(|(sql, p)| self.rows(sql, p)).collect()
    }
    /// Runs a statement whose outcome the operation does not read (a
    /// write whose row count does not matter). SQLite runs it now;
    /// PostgreSQL sends it with the next statement that needs an answer,
    /// or with the commit, so that it costs no round trip of its own. A
    /// failure then shows at that later statement, and fails the whole
    /// call (the store cannot tell which operation of a batch it belonged
    /// to).
    fn defer(&self, sql: &str, params: &[Value]) -> Result<()> {
        self.exec(sql, params).map(|_| ())
    }
    /// The clause a read of rows the operation will change (or must keep
    /// from changing) ends with: empty on SQLite (one writer at a time
    /// already), a row-locking clause on PostgreSQL (see [`Lock`]).
    fn lock(&self, lock: Lock) -> &'static str;
    /// A statement that keeps the namespaces `namespaces` selects (a query
    /// of one column of namespace ids) from losing specs until the commit:
    /// with `delete`, the statement of the operation that deletes specs
    /// there, which waits for every other transaction that keeps them
    /// and keeps them from others until it commits. `None` on SQLite
    /// (one writer at a time already). The operations send it before they
    /// read or lock anything of those specs, so that what they read after
    /// it reflects any deletion it waited for. (A lock in memory rather
    /// than a row lock on the spec: every call takes it, and a row lock
    /// shared by concurrent transactions writes the row and the WAL each
    /// time.)
    fn keep_namespaces(&self, _namespaces: &str, _delete: bool) -> Option<String> {
        None
    }
    /// A query of the ids in a parameter holding a JSON array of integers
    /// (`param` is its placeholder, `?N`).
    fn json_ids(&self, param: &str) -> String {
        format!("SELECT value FROM json_each({param})")
    }
    /// The condition that `column` is one of the ids `ids` (a query of one
    /// integer column) selects, written so that the engine looks each one
    /// up in `column`'s index whatever it guesses of their number.
    fn among(&self, column: &str, ids: &str) -> String {
        format!("{column} IN ({ids})")
    }
    /// The row of `spec_counts` this connection adds its count changes to
    /// (0 on SQLite; on PostgreSQL one of [`COUNT_SHARDS`], so that
    /// connections changing one spec's counts rarely wait on each other).
    fn count_shard(&self) -> i64;
}

/// How many `spec_counts` rows a spec may have on PostgreSQL (one per
/// shard; a spec's counts are their sums).
pub const COUNT_SHARDS: i64 = 32;

/// The row locks the model asks for (PostgreSQL's clauses; SQLite needs
/// none: its writers run one at a time).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lock {
    /// The row will change: wait for it, then read its last committed
    /// version (`FOR UPDATE`).
    Update,
    /// Take the rows no one else holds, skip the others (`FOR UPDATE SKIP
    /// LOCKED`): claims and the expiry sweep, so that workers never wait
    /// on each other's units.
    SkipLocked,
    /// One claimer of the spec at a time (`FOR NO KEY UPDATE`): claims on a
    /// spec with `max_running` or continuous units, whose decisions read
    /// its counts and meta.
    SpecClaims,
}

impl<'c> dyn Db + 'c {
    /// A statement (mirrors rusqlite: both engines cache the prepared form).
    pub fn prepare_cached(&self, sql: &str) -> Result<Stmt<'_, 'c>> {
        Ok(Stmt {
            db: self,
            sql: sql.to_owned(),
        })
    }
}

/// A statement of one connection.
pub struct Stmt<'s, 'c> {
    db: &'s (dyn Db + 'c),
    sql: String,
}

impl Stmt<'_, '_> {
    /// Runs it; the number of rows changed.
    pub fn execute<P: Params>(&mut self, params: P) -> Result<usize> {
        self.db.exec(&self.sql, &params.values())
    }

    /// Runs it when the engine next talks to the server ([`Db::defer`]).
    pub fn defer<P: Params>(&mut self, params: P) -> Result<()> {
        self.db.defer(&self.sql, &params.values())
    }

    /// The first row, through `f`; `NoRows` when there is none.
    pub fn query_row<T, P: Params, F: FnOnce(&Row) -> Result<T>>(
        &mut self,
        params: P,
        f: F,
    ) -> Result<T> {
        let rows = self.db.rows(&self.sql, &params.values())?;
        match rows.first() {
            Some(row) => f(row),
            None => Err(SqlError::NoRows),
        }
    }

    /// Every row, through `f`.
    pub fn query_map<T, P: Params, F: FnMut(&Row) -> Result<T>>(
        &mut self,
        params: P,
        mut f: F,
    ) -> Result<std::vec::IntoIter<Result<T>>> {
        let rows = self.db.rows(&self.sql, &params.values())?;
        Ok(rows.iter().map(&mut f).collect::<Vec<_>>().into_iter())
    }

    /// The rows, one at a time.
    pub fn query<P: Params>(&mut self, params: P) -> Result<Rows> {
        let rows = self.db.rows(&self.sql, &params.values())?;
        Ok(Rows {
            rows: rows.into_iter(),
            current: None,
        })
    }
}

/// The rows of a query, read with `next`.
pub struct Rows {
    rows: std::vec::IntoIter<Row>,
    current: Option<Row>,
}

impl Rows {
    /// The next row.
    pub fn next(&mut self) -> Result<Option<&Row>> {
        self.current = self.rows.next();
        Ok(self.current.as_ref())
    }
}

/// `query_row(..).optional()`: no row is `None` (as rusqlite's).
pub trait OptionalExtension<T> {
    /// `NoRows` as `Ok(None)`.
    fn optional(self) -> Result<Option<T>>;
}

impl<T> OptionalExtension<T> for Result<T> {
    fn optional(self) -> Result<Option<T>> {
        match self {
            Ok(v) => Ok(Some(v)),
            Err(SqlError::NoRows) => Ok(None),
            Err(e) => Err(e),
        }
    }
}

// ---- SQLite ----

impl rusqlite::ToSql for Value {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        use rusqlite::types::{ToSqlOutput, ValueRef};
        Ok(ToSqlOutput::Borrowed(match self {
            Value::Null => ValueRef::Null,
            Value::Int(i) => ValueRef::Integer(*i),
            Value::Real(f) => ValueRef::Real(*f),
            Value::Text(s) => ValueRef::Text(s.as_bytes()),
            Value::Blob(b) => ValueRef::Blob(b),
        }))
    }
}

impl Db for rusqlite::Connection {
    fn exec(&self, sql: &str, params: &[Value]) -> Result<usize> {
        let mut stmt = self.prepare_cached(sql)?;
        Ok(stmt.execute(rusqlite::params_from_iter(params.iter()))?)
    }

    fn rows(&self, sql: &str, params: &[Value]) -> Result<Vec<Row>> {
        use rusqlite::types::ValueRef;
        let mut stmt = self.prepare_cached(sql)?;
        let n = stmt.column_count();
        let mut rows = stmt.query(rusqlite::params_from_iter(params.iter()))?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            let mut values = Vec::with_capacity(n);
            for i in 0..n {
                values.push(match r.get_ref(i)? {
                    ValueRef::Null => Value::Null,
                    ValueRef::Integer(v) => Value::Int(v),
                    ValueRef::Real(v) => Value::Real(v),
                    ValueRef::Text(t) => Value::Text(
                        String::from_utf8(t.to_vec())
                            .map_err(|_| SqlError::Type("text that is not UTF-8".into()))?,
                    ),
                    ValueRef::Blob(b) => Value::Blob(b.to_vec()),
                });
            }
            out.push(Row { values });
        }
        Ok(out)
    }

    fn lock(&self, _: Lock) -> &'static str {
        ""
    }

    fn count_shard(&self) -> i64 {
        0
    }
}
