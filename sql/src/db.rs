//! The engine seam of the SQL model: the few calls `model.rs` makes on a
//! connection (run a statement, read its rows), written once over SQLite
//! (`rusqlite`) and PostgreSQL (`postgres`).
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

use std::cell::RefCell;
use std::collections::HashMap;
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
    Pg(postgres::Error),
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

impl From<postgres::Error> for SqlError {
    fn from(e: postgres::Error) -> Self {
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
    values: Vec<Value>,
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
    /// The clause a read of rows the operation will change (or must keep
    /// from changing) ends with: empty on SQLite (one writer at a time
    /// already), a row-locking clause on PostgreSQL (see [`Lock`]).
    fn lock(&self, lock: Lock) -> &'static str;
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
    /// Keep a spec from being deleted while the operation uses it, without
    /// excluding anyone else who uses it (`FOR KEY SHARE`).
    KeepSpec,
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

// ---- PostgreSQL ----

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

/// A PostgreSQL connection with its prepared statements.
pub struct PgConn {
    client: RefCell<postgres::Client>,
    statements: RefCell<HashMap<String, postgres::Statement>>,
    shard: i64,
}

impl PgConn {
    /// Wraps an open client whose counts go to row `shard` of each spec.
    pub fn new(client: postgres::Client, shard: i64) -> PgConn {
        PgConn {
            client: RefCell::new(client),
            statements: RefCell::new(HashMap::new()),
            shard: shard.rem_euclid(COUNT_SHARDS),
        }
    }

    /// Runs statements without parameters (`BEGIN`, `SAVEPOINT op`, DDL).
    pub fn batch(&self, sql: &str) -> Result<()> {
        Ok(self.client.borrow_mut().batch_execute(sql)?)
    }

    /// Whether the connection is gone (the server closed it, or it broke).
    pub fn is_closed(&self) -> bool {
        self.client.borrow().is_closed()
    }

    fn statement(&self, sql: &str) -> Result<postgres::Statement> {
        if let Some(s) = self.statements.borrow().get(sql) {
            return Ok(s.clone());
        }
        let stmt = self.client.borrow_mut().prepare(&pg_placeholders(sql))?;
        self.statements
            .borrow_mut()
            .insert(sql.to_owned(), stmt.clone());
        Ok(stmt)
    }
}

/// A [`Value`] bound to whatever type PostgreSQL inferred for its placeholder.
#[derive(Debug)]
struct PgParam<'a>(&'a Value);

type BoxError = Box<dyn std::error::Error + Sync + Send>;

impl postgres::types::ToSql for PgParam<'_> {
    fn to_sql(
        &self,
        ty: &postgres::types::Type,
        out: &mut bytes::BytesMut,
    ) -> std::result::Result<postgres::types::IsNull, BoxError> {
        use postgres::types::{IsNull, Type};
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

    fn accepts(_: &postgres::types::Type) -> bool {
        true
    }

    postgres::types::to_sql_checked!();
}

fn pg_value(row: &postgres::Row, i: usize) -> Result<Value> {
    use postgres::types::Type;
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

/// Calls `f` with `params` as the driver's parameter list.
fn with_pg_params<R>(
    params: &[Value],
    f: impl FnOnce(&[&(dyn postgres::types::ToSql + Sync)]) -> R,
) -> R {
    let bound: Vec<PgParam<'_>> = params.iter().map(PgParam).collect();
    let refs: Vec<&(dyn postgres::types::ToSql + Sync)> = bound
        .iter()
        .map(|p| p as &(dyn postgres::types::ToSql + Sync))
        .collect();
    f(&refs)
}

impl Db for PgConn {
    fn exec(&self, sql: &str, params: &[Value]) -> Result<usize> {
        let stmt = self.statement(sql)?;
        let n = with_pg_params(params, |refs| self.client.borrow_mut().execute(&stmt, refs))?;
        Ok(usize::try_from(n).unwrap_or(usize::MAX))
    }

    fn rows(&self, sql: &str, params: &[Value]) -> Result<Vec<Row>> {
        let stmt = self.statement(sql)?;
        let rows = with_pg_params(params, |refs| self.client.borrow_mut().query(&stmt, refs))?;
        rows.iter()
            .map(|r| {
                let values = (0..r.len())
                    .map(|i| pg_value(r, i))
                    .collect::<Result<Vec<_>>>()?;
                Ok(Row { values })
            })
            .collect()
    }

    fn lock(&self, lock: Lock) -> &'static str {
        match lock {
            Lock::Update => " FOR UPDATE",
            Lock::SkipLocked => " FOR UPDATE SKIP LOCKED",
            Lock::KeepSpec => " FOR KEY SHARE",
            Lock::SpecClaims => " FOR NO KEY UPDATE",
        }
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
