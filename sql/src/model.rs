//! The Coordinate model in SQL: every [`Op`] as statements inside the
//! caller's transaction, following the memory engine rule for rule, with
//! the decisions (status, scheduling, request counts, retries, chaining)
//! taken from `coordinate::rules`.
//!
//! The invariants are the memory engine's:
//! - a unit with no active attempt is in exactly one queue (`queue` 0
//!   available, 1 delayed); a unit with an active attempt is in none;
//! - `attempts.expiring = 1` exactly for Pending attempts that are their
//!   unit's active attempt;
//! - `spec_counts` counts queued units by queue and units with an active
//!   attempt by that attempt's status (Pending, Finished, Failed);
//! - a worker's active attempts are its Pending attempts (an attempt leaves
//!   its worker's active list exactly when it leaves Pending);
//! - ids come from AUTOINCREMENT and are never reused, so an operation on a
//!   deleted object finds no row and answers `Gone`.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, PoisonError};

use crate::db::{params, Db, Lock, OptionalExtension, Row};
use chrono::{DateTime, TimeDelta, Utc};
use coordinate::backend::{AttemptRef, Id, NsRef, Op, Reply, SpecRef, UnitId, UnitRef, WorkerRef};
use coordinate::rules::{self, Claims};
use coordinate::{
    extract_work_spec_meta, AddWorkUnitItem, AttemptRequest, AttemptStatus, Error, Map, Summary,
    SummaryRecord, WorkSpecMeta, WorkUnitMeta, WorkUnitQuery, WorkUnitStatus,
};
use rand::rngs::StdRng;

use crate::codec::{
    decode_map, decode_meta, decode_opt_time, decode_priority, decode_time, encode_map,
    encode_meta, encode_priority, encode_time,
};
use crate::store::DbError;

type Time = DateTime<Utc>;
type R<T> = Result<T, DbError>;

const PENDING: i64 = 0; // AttemptStatus::Pending.code()

/// `t + d`, saturating at the ends of representable time (the engine's
/// `clock::add`, which core keeps private).
pub fn add(t: Time, d: TimeDelta) -> Time {
    t.checked_add_signed(d).unwrap_or(if d < TimeDelta::zero() {
        DateTime::<Utc>::MIN_UTC
    } else {
        DateTime::<Utc>::MAX_UTC
    })
}

/// A store id as a SQLite rowid; an id no row can have is a dead object.
fn rid(id: Id) -> R<i64> {
    i64::try_from(id).map_err(|_| DbError::Api(Error::Gone))
}

fn oid(rowid: i64) -> Id {
    rowid as Id
}

fn gone<T>() -> R<T> {
    Err(DbError::Api(Error::Gone))
}

fn attempt_status(code: i64) -> R<AttemptStatus> {
    AttemptStatus::from_code(code)
        .map_err(|_| DbError::corrupt(format!("attempt status code {code}")))
}

/// Ids as the parameter `Db::json_ids` reads: a JSON array.
fn id_array(ids: impl IntoIterator<Item = i64>) -> crate::db::Value {
    let list: Vec<String> = ids.into_iter().map(|i| i.to_string()).collect();
    crate::db::Value::Text(format!("[{}]", list.join(",")))
}

fn time_param(t: Option<Time>) -> Option<[u8; 12]> {
    t.map(encode_time)
}

/// One spec's unit counts: the sums of its `spec_counts` rows.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    available: i64,
    delayed: i64,
    pending: i64,
    finished: i64,
    failed: i64,
}

impl Counts {
    fn plus(self, o: Counts) -> Counts {
        Counts {
            available: self.available + o.available,
            delayed: self.delayed + o.delayed,
            pending: self.pending + o.pending,
            finished: self.finished + o.finished,
            failed: self.failed + o.failed,
        }
    }
}

/// A spec as this call sees it: its counts as read (`base`, read only by
/// the operations that look at counts: an operation that only changes
/// them, like a finish, never sums the spec's count rows), the changes
/// made since (`delta`: what `flush` adds to the connection's count row),
/// and its meta as stored (read with the spec: the operation's later reads
/// of the meta need no query).
#[derive(Clone, Debug)]
struct SpecCounts {
    base: Option<Counts>,
    delta: Counts,
    meta: Vec<u8>,
}

/// The spec columns that `Tx::load_specs` reads.
const SPEC_LIGHT: &str = "s.id, s.name, s.meta";

/// The counts and sweep hints that `Tx::load_specs` reads after
/// [`SPEC_LIGHT`] when it wants counts, from `work_specs s LEFT JOIN
/// spec_counts c` grouped by spec; `?2` is the time now.
///
/// Each hint is an index probe within its spec. `LIMIT 1 OFFSET 0` keeps
/// PostgreSQL from planning an `EXISTS` as a hashed subplan instead (which
/// it may pick from the statistics of a small table, for a cached plan):
/// that reads every spec's entries of the index, including the dead ones a
/// drain leaves behind, on every request (1 ms per request at 20k units).
const SPEC_VIEW: &str = "CAST(COALESCE(SUM(c.available), 0) AS BIGINT), \
    CAST(COALESCE(SUM(c.delayed), 0) AS BIGINT), \
    CAST(COALESCE(SUM(c.pending), 0) AS BIGINT), \
    CAST(COALESCE(SUM(c.finished), 0) AS BIGINT), \
    CAST(COALESCE(SUM(c.failed), 0) AS BIGINT), \
    EXISTS (SELECT 1 FROM attempts WHERE spec = s.id AND expiring = 1 AND expiration < ?2 \
        LIMIT 1 OFFSET 0), \
    EXISTS (SELECT 1 FROM work_units WHERE spec = s.id AND queue = 1 AND not_before <= ?2 \
        LIMIT 1 OFFSET 0), \
    EXISTS (SELECT 1 FROM work_units WHERE spec = s.id AND queue = 0 \
        AND not_before IS NOT NULL AND not_before > ?2 LIMIT 1 OFFSET 0)";

/// What a spec's sweep has to do (`SPEC_VIEW`'s hints): expire attempts,
/// make delayed units available, delay available units again (the clock
/// went back).
#[derive(Clone, Copy, Debug)]
struct Sweep {
    expire: bool,
    due: bool,
    back: bool,
}

/// A spec `Tx::load_specs` read: its id, name and sweep hints.
type SpecSeen = (i64, String, Sweep);

impl Sweep {
    const ALL: Sweep = Sweep {
        expire: true,
        due: true,
        back: true,
    };
    const NONE: Sweep = Sweep {
        expire: false,
        due: false,
        back: false,
    };
}

/// The columns of `work_units` the rules look at (data is read on demand).
#[derive(Clone, Debug)]
struct Unit {
    id: i64,
    spec: i64,
    prio: i64,
    not_before: Option<Time>,
    queue: Option<i64>,
    active: Option<i64>,
    num_attempts: i64,
}

const UNIT_COLS: &str = "id, spec, prio, not_before, queue, active, num_attempts";

type UnitRaw = (
    i64,
    i64,
    i64,
    Option<Vec<u8>>,
    Option<i64>,
    Option<i64>,
    i64,
);

fn unit_raw(r: &Row) -> crate::db::Result<UnitRaw> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
        r.get(6)?,
    ))
}

fn unit_from(raw: UnitRaw) -> R<Unit> {
    Ok(Unit {
        id: raw.0,
        spec: raw.1,
        prio: raw.2,
        not_before: decode_opt_time(raw.3)?,
        queue: raw.4,
        active: raw.5,
        num_attempts: raw.6,
    })
}

/// The columns of `attempts` the rules look at.
#[derive(Clone, Debug)]
struct Att {
    id: i64,
    spec: i64,
    unit: i64,
    status: AttemptStatus,
    start: Time,
    end: Option<Time>,
    expiration: Time,
}

const ATT_COLS: &str = "id, spec, unit, status, start_time, end_time, expiration";

fn att_from(r: &Row) -> R<Att> {
    Ok(Att {
        id: r.get(0)?,
        spec: r.get(1)?,
        unit: r.get(2)?,
        status: attempt_status(r.get(3)?)?,
        start: decode_time(&r.get::<_, Vec<u8>>(4)?)?,
        end: decode_opt_time(r.get(5)?)?,
        expiration: decode_time(&r.get::<_, Vec<u8>>(6)?)?,
    })
}

/// A worker's name and namespace, by id (`?1`).
const WORKER_REF_SQL: &str =
    "SELECT w.name, n.id, n.name FROM workers w JOIN namespaces n ON n.id = w.ns WHERE w.id = ?1";

fn worker_ref_from(id: i64, r: &Row) -> R<WorkerRef> {
    Ok(WorkerRef {
        ns: NsRef {
            id: oid(r.get(1)?),
            name: Arc::from(r.get::<_, String>(2)?),
        },
        id: oid(id),
        name: Arc::from(r.get::<_, String>(0)?),
    })
}

/// The joins that name an attempt's unit, spec, namespace and worker; an
/// attempt whose worker is gone is not listed (as in the memory engine).
const ATTEMPT_REF_SELECT: &str = "SELECT a.id, u.id, u.name, s.id, s.name, n.id, n.name, \
     w.id, w.name, wn.id, wn.name \
     FROM attempts a JOIN work_units u ON u.id = a.unit \
     JOIN work_specs s ON s.id = u.spec JOIN namespaces n ON n.id = s.ns \
     JOIN workers w ON w.id = a.worker JOIN namespaces wn ON wn.id = w.ns";

type AttRefRaw = (
    i64,
    i64,
    String,
    i64,
    String,
    i64,
    String,
    i64,
    String,
    i64,
    String,
);

fn att_ref_raw(r: &Row) -> crate::db::Result<AttRefRaw> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
        r.get(6)?,
        r.get(7)?,
        r.get(8)?,
        r.get(9)?,
        r.get(10)?,
    ))
}

fn att_ref(raw: AttRefRaw) -> AttemptRef {
    let (a, u, uname, s, sname, n, nname, w, wname, wn, wnname) = raw;
    let ns = NsRef {
        id: oid(n),
        name: Arc::from(nname),
    };
    let worker_ns = if wn == n {
        ns.clone()
    } else {
        NsRef {
            id: oid(wn),
            name: Arc::from(wnname),
        }
    };
    AttemptRef {
        id: oid(a),
        unit: UnitRef {
            spec: SpecRef {
                ns,
                id: oid(s),
                name: Arc::from(sname),
            },
            id: oid(u),
            name: Arc::from(uname),
        },
        worker: WorkerRef {
            ns: worker_ns,
            id: oid(w),
            name: Arc::from(wname),
        },
    }
}

/// A transaction's view of the store, for the operations of one call (a
/// batch runs several in one transaction): the specs it has read, their
/// counts as changed so far, added to the store once at the end (`flush`),
/// so that the operations of a batch read a spec once and write its counts
/// once.
pub struct Tx<'a> {
    c: &'a dyn Db,
    now: Time,
    rng: &'a Mutex<StdRng>,
    counts: HashMap<i64, SpecCounts>,
    /// Attempts (with their units) that the call's finishes and fails will
    /// read, read and locked together by `prefetch`; each is used once, and
    /// all are dropped when an operation that may change them runs.
    prefetched: HashMap<i64, (Att, Option<Unit>)>,
}

impl<'a> Tx<'a> {
    /// The view of the connection's open transaction; the scheduler draws
    /// from `rng`, locked only for the draw (connections of one store run
    /// operations at once and share it).
    pub fn new(c: &'a dyn Db, rng: &'a Mutex<StdRng>) -> Self {
        Tx {
            c,
            now: DateTime::<Utc>::MIN_UTC,
            rng,
            counts: HashMap::new(),
            prefetched: HashMap::new(),
        }
    }

    /// Reads and locks, in one round trip on PostgreSQL, the attempts
    /// (with their units and specs) that a batch of finishes and fails
    /// names, so that those operations read nothing more; ordered by id,
    /// so that two such batches never lock in opposite orders.
    pub fn prefetch(&mut self, ops: &[Op]) -> R<()> {
        let ids: Vec<i64> = ops
            .iter()
            .filter_map(|op| match op {
                Op::Finish { attempt, .. } | Op::Fail { attempt, .. } => {
                    i64::try_from(*attempt).ok()
                }
                _ => None,
            })
            .collect();
        if ids.len() < 2 {
            return Ok(());
        }
        let listed = self.c.among("id", &self.c.json_ids("?1"));
        let attempt_sql = format!(
            "SELECT {ATT_COLS} FROM attempts WHERE {listed} ORDER BY id{}",
            self.c.lock(Lock::Update)
        );
        let unit_sql = format!(
            "SELECT {UNIT_COLS} FROM work_units WHERE {} ORDER BY id{}",
            self.c
                .among("id", &format!("SELECT unit FROM attempts WHERE {listed}")),
            self.c.lock(Lock::Update)
        );
        let (rows, _) = self.read_with_specs(
            &self
                .c
                .among("s.id", &format!("SELECT spec FROM attempts WHERE {listed}")),
            false,
            id_array(ids),
            &[&attempt_sql, &unit_sql],
        )?;
        let [atts, units] = <[Vec<Row>; 2]>::try_from(rows)
            .map_err(|_| DbError::corrupt("a pipeline lost an answer".into()))?;
        let mut by_id = HashMap::with_capacity(units.len());
        for r in &units {
            let u = unit_from(unit_raw(r)?)?;
            by_id.insert(u.id, u);
        }
        for r in &atts {
            let a = att_from(r)?;
            let unit = by_id.get(&a.unit).cloned();
            self.prefetched.insert(a.id, (a, unit));
        }
        Ok(())
    }

    /// Runs one operation at `now`: the outcome the caller sees, or the
    /// store failure that must roll the operation back (the store rolls
    /// back to its savepoint, or the whole transaction; the counts it
    /// changed are forgotten here).
    pub fn op(&mut self, now: Time, op: Op) -> R<coordinate::Result<Reply>> {
        self.now = now;
        if !matches!(op, Op::Finish { .. } | Op::Fail { .. }) {
            self.prefetched.clear();
        }
        let before = self.counts.clone();
        match self.run(op) {
            Ok(reply) => Ok(Ok(reply)),
            Err(DbError::Api(e)) => Ok(Err(e)),
            Err(e) => {
                self.counts = before;
                Err(e)
            }
        }
    }

    /// Adds the count changes of the transaction to the connection's row
    /// of each spec (`Db::count_shard`), before the commit: changes are
    /// sums, so transactions of several connections on one spec need not
    /// wait on one row.
    pub fn flush(&mut self) -> R<()> {
        let mut stmt = self.c.prepare_cached(
            "INSERT INTO spec_counts (spec, shard, available, delayed, pending, finished, failed) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT (spec, shard) DO UPDATE SET \
             available = spec_counts.available + excluded.available, \
             delayed = spec_counts.delayed + excluded.delayed, \
             pending = spec_counts.pending + excluded.pending, \
             finished = spec_counts.finished + excluded.finished, \
             failed = spec_counts.failed + excluded.failed",
        )?;
        let shard = self.c.count_shard();
        for (spec, c) in self
            .counts
            .iter_mut()
            .filter(|(_, c)| c.delta != Counts::default())
        {
            let d = c.delta;
            stmt.defer(params![
                spec,
                shard,
                d.available,
                d.delayed,
                d.pending,
                d.finished,
                d.failed
            ])?;
            c.base = c.base.map(|b| b.plus(d));
            c.delta = Counts::default();
        }
        Ok(())
    }

    // ---- counts ----

    /// Reads the specs `condition` (on `s`, with `?1`) selects, in name
    /// order, into the call's cache (a spec already there keeps its
    /// changes); returns each one's id, name and sweep hints (none without
    /// `counts`). Every look at specs also keeps them from being deleted
    /// until the commit (see [`Db::keep_namespaces`]; others using them
    /// go on).
    fn load_specs(&mut self, condition: &str, key: i64, counts: bool) -> R<Vec<SpecSeen>> {
        let key = crate::db::Value::Int(key);
        Ok(self.read_with_specs(condition, counts, key, &[])?.1)
    }

    /// `load_specs` of `condition`, with the queries `reads` (of `?1`, which
    /// is `key` for them all) sent together: one round trip on PostgreSQL.
    /// The statement that keeps the specs' namespaces goes first, before
    /// `reads` lock anything, and the specs' query last. Returns the rows
    /// of each of `reads`, and the specs.
    fn read_with_specs(
        &mut self,
        condition: &str,
        counts: bool,
        key: crate::db::Value,
        reads: &[&str],
    ) -> R<(Vec<Vec<Row>>, Vec<SpecSeen>)> {
        let params = self.specs_params(key);
        let key = &params[..1];
        let keep = self.c.keep_namespaces(
            &format!("SELECT DISTINCT s.ns FROM work_specs s WHERE {condition}"),
            false,
        );
        let (query, query_params) = if counts {
            let sql = format!(
                "SELECT {SPEC_LIGHT}, {SPEC_VIEW} FROM work_specs s \
                 LEFT JOIN spec_counts c ON c.spec = s.id WHERE {condition} \
                 GROUP BY s.id ORDER BY s.name"
            );
            (sql, &params[..])
        } else {
            let sql =
                format!("SELECT {SPEC_LIGHT} FROM work_specs s WHERE {condition} ORDER BY s.name");
            (sql, key)
        };
        let mut asks: Vec<(&str, &[crate::db::Value])> =
            keep.iter().map(|q| (q.as_str(), key)).collect();
        asks.extend(reads.iter().map(|q| (*q, key)));
        asks.push((&query, query_params));
        let mut rows = self.c.rows_many(&asks)?;
        let spec_rows = rows.pop();
        let answers = rows.split_off(rows.len().min(usize::from(keep.is_some())));
        let (Some(spec_rows), true) = (spec_rows, answers.len() == reads.len()) else {
            return Err(DbError::corrupt("a pipeline lost an answer".into()));
        };
        Ok((answers, self.take_specs(spec_rows, counts)?))
    }

    /// `load_specs`' parameters.
    fn specs_params(&self, key: crate::db::Value) -> [crate::db::Value; 2] {
        [key, crate::db::Value::Blob(encode_time(self.now).to_vec())]
    }

    /// `load_specs`' rows into the cache.
    fn take_specs(&mut self, rows: Vec<Row>, counts: bool) -> R<Vec<SpecSeen>> {
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            let id: i64 = r.get(0)?;
            let (base, sweep) = if counts {
                let base = Counts {
                    available: r.get(3)?,
                    delayed: r.get(4)?,
                    pending: r.get(5)?,
                    finished: r.get(6)?,
                    failed: r.get(7)?,
                };
                let sweep = Sweep {
                    expire: r.get(8)?,
                    due: r.get(9)?,
                    back: r.get(10)?,
                };
                (Some(base), sweep)
            } else {
                (None, Sweep::NONE)
            };
            let entry = self.counts.entry(id).or_insert(SpecCounts {
                base: None,
                delta: Counts::default(),
                meta: r.get(2)?,
            });
            if entry.base.is_none() {
                entry.base = base;
            }
            out.push((id, r.get(1)?, sweep));
        }
        Ok(out)
    }

    /// Whether the spec exists (read into the cache, without counts, if
    /// it is not there yet).
    fn known(&mut self, spec: i64) -> R<bool> {
        Ok(self.counts.contains_key(&spec)
            || !self.load_specs("s.id = ?1", spec, false)?.is_empty())
    }

    /// The spec's counts now, or `None` when the spec does not exist.
    fn counts(&mut self, spec: i64) -> R<Option<Counts>> {
        let read = self.counts.get(&spec).is_some_and(|c| c.base.is_some());
        if !read && self.load_specs("s.id = ?1", spec, true)?.is_empty() {
            return Ok(None);
        }
        Ok(self
            .counts
            .get(&spec)
            .and_then(|c| Some(c.base?.plus(c.delta))))
    }

    /// Applies `f` to the spec's count changes (nothing if the spec is
    /// gone).
    fn adjust(&mut self, spec: i64, f: impl FnOnce(&mut Counts)) -> R<()> {
        if self.known(spec)? {
            if let Some(c) = self.counts.get_mut(&spec) {
                f(&mut c.delta);
            }
        }
        Ok(())
    }

    /// Counts a unit in or out of its active attempt's status.
    fn count_status(&mut self, spec: i64, status: AttemptStatus, n: i64) -> R<()> {
        match status {
            AttemptStatus::Pending => self.adjust(spec, |c| c.pending += n),
            AttemptStatus::Finished => self.adjust(spec, |c| c.finished += n),
            AttemptStatus::Failed => self.adjust(spec, |c| c.failed += n),
            AttemptStatus::Expired | AttemptStatus::Retryable => Ok(()),
        }
    }

    fn spec_exists(&mut self, spec: i64) -> R<()> {
        if self.known(spec)? {
            Ok(())
        } else {
            gone()
        }
    }

    // ---- rows ----

    fn unit(&self, id: i64) -> R<Option<Unit>> {
        let raw = self
            .c
            .prepare_cached(&format!(
                "SELECT {UNIT_COLS} FROM work_units WHERE id = ?1{}",
                self.c.lock(Lock::Update)
            ))?
            .query_row([id], unit_raw)
            .optional()?;
        raw.map(unit_from).transpose()
    }

    fn unit_named(&self, spec: i64, name: &str) -> R<Option<Unit>> {
        let raw = self
            .c
            .prepare_cached(&format!(
                "SELECT {UNIT_COLS} FROM work_units WHERE spec = ?1 AND name = ?2{}",
                self.c.lock(Lock::Update)
            ))?
            .query_row(params![spec, name], unit_raw)
            .optional()?;
        raw.map(unit_from).transpose()
    }

    /// The live unit an operation names (`Gone` if it or its spec is dead).
    fn unit_at(&self, key: UnitId) -> R<Unit> {
        let (spec, id) = (rid(key.spec)?, rid(key.unit)?);
        match self.unit(id)? {
            Some(u) if u.spec == spec => Ok(u),
            _ => gone(),
        }
    }

    fn attempt(&self, id: i64) -> R<Option<Att>> {
        let rows = self
            .c
            .rows(&self.attempt_sql(), &[crate::db::Value::Int(id)])?;
        rows.first().map(att_from).transpose()
    }

    /// The query of one attempt by id (`?1`), locked.
    fn attempt_sql(&self) -> String {
        format!(
            "SELECT {ATT_COLS} FROM attempts WHERE id = ?1{}",
            self.c.lock(Lock::Update)
        )
    }

    /// The live attempt an operation names, with its unit and its spec
    /// (into the cache, without counts), read together: one round trip on
    /// PostgreSQL.
    fn attempt_and_unit(&mut self, id: Id) -> R<(Att, Option<Unit>)> {
        if let Some(found) = self.prefetched.remove(&rid(id)?) {
            return Ok(found);
        }
        let unit_sql = format!(
            "SELECT {UNIT_COLS} FROM work_units \
             WHERE id = (SELECT unit FROM attempts WHERE id = ?1){}",
            self.c.lock(Lock::Update)
        );
        let (rows, _) = self.read_with_specs(
            "s.id = (SELECT spec FROM attempts WHERE id = ?1)",
            false,
            crate::db::Value::Int(rid(id)?),
            &[&self.attempt_sql(), &unit_sql],
        )?;
        let [att, unit] = <[Vec<Row>; 2]>::try_from(rows)
            .map_err(|_| DbError::corrupt("a pipeline lost an answer".into()))?;
        let Some(att) = att.first().map(att_from).transpose()? else {
            return gone();
        };
        let unit = unit.first().map(|r| unit_from(unit_raw(r)?)).transpose()?;
        Ok((att, unit))
    }

    fn attempt_at(&self, id: Id) -> R<Att> {
        match self.attempt(rid(id)?)? {
            Some(a) => Ok(a),
            None => gone(),
        }
    }

    fn attempt_status_of(&self, id: i64) -> R<Option<AttemptStatus>> {
        let code: Option<i64> = self
            .c
            .prepare_cached(&format!(
                "SELECT status FROM attempts WHERE id = ?1{}",
                self.c.lock(Lock::Update)
            ))?
            .query_row([id], |r| r.get(0))
            .optional()?;
        code.map(attempt_status).transpose()
    }

    /// The one blob `sql` selects for row `id`, or `Gone` when there is no row.
    fn blob(&self, sql: &str, id: i64) -> R<Vec<u8>> {
        let blob: Option<Vec<u8>> = self
            .c
            .prepare_cached(sql)?
            .query_row([id], |r| r.get(0))
            .optional()?;
        match blob {
            Some(b) => Ok(b),
            None => gone(),
        }
    }

    fn attempt_data(&self, id: i64) -> R<Map> {
        decode_map(&self.blob("SELECT data FROM attempts WHERE id = ?1", id)?)
    }

    fn unit_data(&self, id: i64) -> R<Map> {
        decode_map(&self.blob("SELECT data FROM work_units WHERE id = ?1", id)?)
    }

    fn spec_meta(&self, spec: i64) -> R<WorkSpecMeta> {
        match self.counts.get(&spec) {
            Some(c) => decode_meta(&c.meta),
            None => decode_meta(&self.blob("SELECT meta FROM work_specs WHERE id = ?1", spec)?),
        }
    }

    fn set_spec_meta(&mut self, spec: i64, meta: &WorkSpecMeta) -> R<()> {
        self.set_spec(spec, None, meta)
    }

    /// Writes a spec's meta (and data, when given), keeping the cache true.
    fn set_spec(&mut self, spec: i64, data: Option<&Map>, meta: &WorkSpecMeta) -> R<()> {
        let blob = encode_meta(meta)?;
        match data {
            Some(data) => self
                .c
                .prepare_cached("UPDATE work_specs SET data = ?2, meta = ?3 WHERE id = ?1")?
                .execute(params![spec, encode_map(data)?, blob])?,
            None => self
                .c
                .prepare_cached("UPDATE work_specs SET meta = ?2 WHERE id = ?1")?
                .execute(params![spec, blob])?,
        };
        if let Some(c) = self.counts.get_mut(&spec) {
            c.meta = blob;
        }
        Ok(())
    }

    fn worker_exists(&self, id: i64) -> R<()> {
        let found: Option<i64> = self
            .c
            .prepare_cached("SELECT 1 FROM workers WHERE id = ?1")?
            .query_row([id], |r| r.get(0))
            .optional()?;
        match found {
            Some(_) => Ok(()),
            None => gone(),
        }
    }

    fn ns_exists(&self, id: i64) -> R<String> {
        let name: Option<String> = self
            .c
            .prepare_cached("SELECT name FROM namespaces WHERE id = ?1")?
            .query_row([id], |r| r.get(0))
            .optional()?;
        match name {
            Some(n) => Ok(n),
            None => gone(),
        }
    }

    // ---- references ----

    fn ns_ref(id: i64, name: String) -> NsRef {
        NsRef {
            id: oid(id),
            name: Arc::from(name),
        }
    }

    fn spec_ref(&self, spec: i64) -> R<SpecRef> {
        let row = self
            .c
            .prepare_cached(
                "SELECT s.name, n.id, n.name FROM work_specs s \
                 JOIN namespaces n ON n.id = s.ns WHERE s.id = ?1",
            )?
            .query_row([spec], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, String>(2)?,
                ))
            })
            .optional()?;
        let Some((name, ns, ns_name)) = row else {
            return gone();
        };
        Ok(SpecRef {
            ns: Self::ns_ref(ns, ns_name),
            id: oid(spec),
            name: Arc::from(name),
        })
    }

    fn unit_ref(&self, spec: &SpecRef, unit: i64) -> R<UnitRef> {
        let name: Option<String> = self
            .c
            .prepare_cached("SELECT name FROM work_units WHERE id = ?1")?
            .query_row([unit], |r| r.get(0))
            .optional()?;
        match name {
            Some(name) => Ok(UnitRef {
                spec: spec.clone(),
                id: oid(unit),
                name: Arc::from(name),
            }),
            None => gone(),
        }
    }

    fn worker_ref(&self, id: i64) -> R<Option<WorkerRef>> {
        let rows = self.c.rows(WORKER_REF_SQL, &[crate::db::Value::Int(id)])?;
        rows.first().map(|r| worker_ref_from(id, r)).transpose()
    }

    fn attempt_ref(&self, id: i64) -> R<Option<AttemptRef>> {
        let raw = self
            .c
            .prepare_cached(&format!("{ATTEMPT_REF_SELECT} WHERE a.id = ?1"))?
            .query_row([id], att_ref_raw)
            .optional()?;
        Ok(raw.map(att_ref))
    }

    /// Attempt references by a condition on `a`, in creation order.
    fn attempt_refs(&self, condition: &str, key: i64) -> R<Vec<AttemptRef>> {
        let mut stmt = self.c.prepare_cached(&format!(
            "{ATTEMPT_REF_SELECT} WHERE {condition} ORDER BY a.id"
        ))?;
        let rows = stmt.query_map([key], att_ref_raw)?;
        let mut out = Vec::new();
        for row in rows {
            out.push(att_ref(row?));
        }
        Ok(out)
    }

    // ---- queues and attempts (the memory engine's State methods) ----

    /// Puts a unit with no active attempt in its queue by `not_before`.
    fn enqueue(&mut self, spec: i64, unit: i64, not_before: Option<Time>) -> R<()> {
        let delayed = matches!(not_before, Some(nb) if self.now < nb);
        self.c
            .prepare_cached("UPDATE work_units SET queue = ?2, active = NULL WHERE id = ?1")?
            .defer(params![unit, i64::from(delayed)])?;
        self.adjust(spec, |c| {
            if delayed {
                c.delayed += 1;
            } else {
                c.available += 1;
            }
        })
    }

    /// Takes a unit out of whatever accounts for it (its active attempt's
    /// count and expiry, or its queue's count). The caller then writes the
    /// unit's new `queue`/`active` (enqueue, attach) or deletes it.
    fn release(&mut self, u: &Unit) -> R<()> {
        if let Some(active) = u.active {
            if let Some(status) = self.attempt_status_of(active)? {
                self.count_status(u.spec, status, -1)?;
                if status == AttemptStatus::Pending {
                    self.c
                        .prepare_cached("UPDATE attempts SET expiring = NULL WHERE id = ?1")?
                        .defer([active])?;
                }
                return Ok(());
            }
        }
        match u.queue {
            Some(0) => self.adjust(u.spec, |c| c.available -= 1),
            Some(1) => self.adjust(u.spec, |c| c.delayed -= 1),
            _ => Ok(()),
        }
    }

    /// Expires the spec's active Pending attempts past their deadline and
    /// moves units between the delayed and available queues by `now`.
    fn sweep(&mut self, spec: i64) -> R<()> {
        self.sweep_as(spec, Sweep::ALL)
    }

    /// The parts of `sweep` that `what` says have work.
    fn sweep_as(&mut self, spec: i64, what: Sweep) -> R<()> {
        let now = encode_time(self.now);
        let expired: Vec<i64> = if !what.expire {
            Vec::new()
        } else {
            // An attempt another connection holds is being finished or
            // expired there (or the next request sweeps it).
            let mut stmt = self.c.prepare_cached(&format!(
                "SELECT id FROM attempts WHERE spec = ?1 AND expiring = 1 \
                 AND expiration < ?2 ORDER BY expiration, id{}",
                self.c.lock(Lock::SkipLocked)
            ))?;
            let rows = stmt.query_map(params![spec, now], |r| r.get(0))?;
            rows.collect::<crate::db::Result<_>>()?
        };
        for id in expired {
            match self.attempt(id)? {
                Some(att) if att.status == AttemptStatus::Pending => {
                    self.complete_att(&att, AttemptStatus::Expired, None)?;
                }
                _ => {}
            }
        }
        // The clock went back: units made available may be delayed again.
        let back = if !what.back {
            0
        } else {
            self.c
                .prepare_cached(
                    "UPDATE work_units SET queue = 1 WHERE spec = ?1 AND queue = 0 \
                     AND not_before IS NOT NULL AND not_before > ?2",
                )?
                .execute(params![spec, now])? as i64
        };
        let due = if !what.due {
            0
        } else {
            self.c
                .prepare_cached(
                    "UPDATE work_units SET queue = 0 WHERE spec = ?1 AND queue = 1 \
                     AND not_before <= ?2",
                )?
                .execute(params![spec, now])? as i64
        };
        if back != 0 || due != 0 {
            self.adjust(spec, |c| {
                c.available += due - back;
                c.delayed += back - due;
            })?;
        }
        Ok(())
    }

    /// Leaves Pending (or Failed, for a late Finish) for `status` at now.
    fn complete(&mut self, id: i64, status: AttemptStatus, data: Option<Map>) -> R<()> {
        let Some(att) = self.attempt(id)? else {
            return Ok(());
        };
        self.complete_att(&att, status, data).map(|_| ())
    }

    /// `complete` of an attempt already read; returns whether the attempt
    /// is (still) its unit's active attempt.
    fn complete_att(&mut self, att: &Att, status: AttemptStatus, data: Option<Map>) -> R<bool> {
        let unit = self.unit(att.unit)?;
        self.complete_read(att, unit, status, data)
    }

    /// `complete_att` with the attempt's unit already read (and locked).
    fn complete_read(
        &mut self,
        att: &Att,
        unit: Option<Unit>,
        status: AttemptStatus,
        data: Option<Map>,
    ) -> R<bool> {
        let id = att.id;
        let data = data.as_ref().map(encode_map).transpose()?;
        self.c
            .prepare_cached(
                "UPDATE attempts SET status = ?2, end_time = ?3, expiring = NULL, \
                 data = COALESCE(?4, data) WHERE id = ?1",
            )?
            .defer(params![id, status.code(), encode_time(self.now), data])?;
        let Some(unit) = unit else {
            return Ok(false);
        };
        if unit.active != Some(id) {
            return Ok(false);
        }
        self.count_status(att.spec, att.status, -1)?;
        match status {
            AttemptStatus::Expired | AttemptStatus::Retryable => {
                self.enqueue(unit.spec, unit.id, unit.not_before)?;
                Ok(false)
            }
            _ => {
                self.count_status(att.spec, status, 1)?;
                Ok(true)
            }
        }
    }

    /// Adds or updates a unit with AddWorkUnit semantics; returns its id.
    fn put_unit(&mut self, spec: i64, name: &str, data: &Map, meta: WorkUnitMeta) -> R<i64> {
        self.spec_exists(spec)?;
        let blob = encode_map(data)?;
        let prio = encode_priority(rules::unit_priority(meta.priority));
        let nb = time_param(meta.not_before);
        let delayed = matches!(meta.not_before, Some(t) if self.now < t);
        let inserted: Option<i64> = self
            .c
            .prepare_cached(
                "INSERT INTO work_units (spec, name, data, prio, not_before, queue, num_attempts) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, 0) ON CONFLICT (spec, name) DO NOTHING \
                 RETURNING id",
            )?
            .query_row(
                params![spec, name, blob, prio, nb, i64::from(delayed)],
                |r| r.get(0),
            )
            .optional()?;
        if let Some(id) = inserted {
            self.adjust(spec, |c| {
                if delayed {
                    c.delayed += 1;
                } else {
                    c.available += 1;
                }
            })?;
            return Ok(id);
        }
        let Some(unit) = self.unit_named(spec, name)? else {
            return gone();
        };
        let pending = match unit.active {
            Some(a) => self.attempt_status_of(a)? == Some(AttemptStatus::Pending),
            None => false,
        };
        if !pending {
            // Queued, finished or failed: re-queue it; history is kept.
            self.release(&unit)?;
        }
        self.c
            .prepare_cached(
                "UPDATE work_units SET data = ?2, prio = ?3, not_before = ?4 WHERE id = ?1",
            )?
            .execute(params![unit.id, blob, prio, nb])?;
        if !pending {
            self.enqueue(spec, unit.id, meta.not_before)?;
        }
        Ok(unit.id)
    }

    /// Creates a Pending attempt of `worker` on a unit already released
    /// from its queue or attempt (the caller checked that the worker
    /// exists); returns it and the unit's attempt count.
    fn attach(&mut self, spec: i64, unit: i64, worker: i64, lifetime: TimeDelta) -> R<(i64, u64)> {
        let expiration = add(self.now, lifetime);
        // The attempt, then its unit naming it (the unit's newest attempt):
        // two statements that need no answer from each other, so one
        // round trip on PostgreSQL.
        let insert = [
            crate::db::Value::Int(spec),
            crate::db::Value::Int(unit),
            crate::db::Value::Int(worker),
            crate::db::Value::Blob(encode_time(self.now).to_vec()),
            crate::db::Value::Blob(encode_time(expiration).to_vec()),
        ];
        let update = [crate::db::Value::Int(unit)];
        let rows = self.c.rows_many(&[
            (
                "INSERT INTO attempts (spec, unit, worker, status, data, start_time, \
                 expiration, expiring) SELECT ?1, id, ?3, 0, data, ?4, ?5, 1 \
                 FROM work_units WHERE id = ?2 RETURNING id",
                &insert,
            ),
            (
                "UPDATE work_units SET queue = NULL, num_attempts = num_attempts + 1, \
                 active = (SELECT MAX(id) FROM attempts WHERE unit = ?1) \
                 WHERE id = ?1 RETURNING num_attempts",
                &update,
            ),
        ])?;
        let (Some(id), Some(attempts)) = (
            rows.first().and_then(|r| r.first()),
            rows.get(1).and_then(|r| r.first()),
        ) else {
            return gone();
        };
        let (id, attempts): (i64, i64) = (id.get(0)?, attempts.get(0)?);
        self.adjust(spec, |c| c.pending += 1)?;
        if attempts > 1 {
            self.keep_attempts(spec, unit, attempts)?;
        }
        Ok((id, u64::try_from(attempts).unwrap_or(0)))
    }

    /// Deletes the unit's oldest attempts past its spec's `keep_attempts`
    /// (semantics §3.18); the spec's data is read only for a unit's second
    /// and later attempts.
    fn keep_attempts(&mut self, spec: i64, unit: i64, attempts: i64) -> R<()> {
        let data = decode_map(&self.blob("SELECT data FROM work_specs WHERE id = ?1", spec)?)?;
        let keep = coordinate::Retention::from_data(&data)?.keep_attempts;
        if keep == 0 || attempts <= i64::from(keep) {
            return Ok(());
        }
        self.c
            .prepare_cached(
                "DELETE FROM attempts WHERE unit = ?1 AND id NOT IN \
                 (SELECT id FROM attempts WHERE unit = ?1 ORDER BY id DESC LIMIT ?2)",
            )?
            .execute(params![unit, i64::from(keep)])?;
        Ok(())
    }

    /// Starts an attempt on a unit, displacing any active attempt without
    /// changing it.
    fn start_attempt(&mut self, u: &Unit, worker: i64, lifetime: TimeDelta) -> R<(i64, u64)> {
        self.worker_exists(worker)?;
        self.release(u)?;
        self.attach(u.spec, u.id, worker, lifetime)
    }

    fn remove_unit(&mut self, u: &Unit) -> R<()> {
        self.release(u)?;
        self.c
            .prepare_cached("DELETE FROM attempts WHERE unit = ?1")?
            .execute([u.id])?;
        self.c
            .prepare_cached("DELETE FROM work_units WHERE id = ?1")?
            .execute([u.id])?;
        Ok(())
    }

    /// Locks the spec's `work_specs` row (`lock`: what for).
    fn lock_spec(&self, spec: i64, lock: Lock) -> R<()> {
        self.c
            .prepare_cached(&format!(
                "SELECT id FROM work_specs WHERE id = ?1{}",
                self.c.lock(lock)
            ))?
            .query_row([spec], |r| r.get::<_, i64>(0))
            .optional()?;
        Ok(())
    }

    fn remove_spec(&mut self, spec: i64) -> R<()> {
        // Waits for the operations that use the spec's namespace
        // (`Db::keep_namespaces`) to commit; those that come later wait for
        // this one, then find no spec.
        if let Some(sql) = self
            .c
            .keep_namespaces("SELECT s.ns FROM work_specs s WHERE s.id = ?1", true)
        {
            self.c.rows(&sql, &[crate::db::Value::Int(spec)])?;
        }
        self.lock_spec(spec, Lock::Update)?;
        for sql in [
            // Through the units (attempts_unit): an index on attempts.spec
            // would cost every request a page write for this rare call.
            "DELETE FROM attempts WHERE unit IN (SELECT id FROM work_units WHERE spec = ?1)",
            "DELETE FROM work_units WHERE spec = ?1",
            "DELETE FROM spec_counts WHERE spec = ?1",
            "DELETE FROM work_specs WHERE id = ?1",
        ] {
            self.c.prepare_cached(sql)?.execute([spec])?;
        }
        self.counts.remove(&spec);
        Ok(())
    }

    /// Changes a unit's priority and not-before time, keeping it in the
    /// right queue.
    fn requeue(&mut self, u: &Unit, prio: f64, not_before: Option<Time>) -> R<()> {
        let queued = u.active.is_none();
        if queued {
            self.release(u)?;
        }
        self.c
            .prepare_cached("UPDATE work_units SET prio = ?2, not_before = ?3 WHERE id = ?1")?
            .execute(params![
                u.id,
                encode_priority(rules::unit_priority(prio)),
                time_param(not_before)
            ])?;
        if queued {
            self.enqueue(u.spec, u.id, not_before)?;
        }
        Ok(())
    }

    fn clear_active(&mut self, u: &Unit) -> R<()> {
        if u.active.is_none() {
            return Ok(());
        }
        self.release(u)?;
        self.enqueue(u.spec, u.id, u.not_before)
    }

    /// A unit's status now (the caller sweeps first).
    fn status_of(&self, u: &Unit) -> R<WorkUnitStatus> {
        let active = match u.active {
            Some(a) => self.attempt_status_of(a)?,
            None => None,
        };
        Ok(rules::unit_status(active, u.not_before, self.now))
    }

    /// Non-zero counts by unit status (the caller sweeps first).
    fn status_counts(&mut self, spec: i64) -> R<Vec<(WorkUnitStatus, i64)>> {
        let Some(c) = self.counts(spec)? else {
            return gone();
        };
        Ok([
            (WorkUnitStatus::Available, c.available),
            (WorkUnitStatus::Pending, c.pending),
            (WorkUnitStatus::Finished, c.finished),
            (WorkUnitStatus::Failed, c.failed),
            (WorkUnitStatus::Delayed, c.delayed),
        ]
        .into_iter()
        .filter(|(_, n)| *n > 0)
        .collect())
    }

    /// The spec's meta with the counts as of now (the caller sweeps first).
    fn meta_with_counts(&mut self, spec: i64) -> R<WorkSpecMeta> {
        let mut meta = self.spec_meta(spec)?;
        let Some(c) = self.counts(spec)? else {
            return gone();
        };
        meta.available_count = c.available;
        meta.pending_count = c.pending;
        Ok(meta)
    }

    /// The ids of the units a query selects, in name order (after a sweep).
    fn select(&mut self, spec: i64, q: &WorkUnitQuery) -> R<Vec<i64>> {
        self.spec_exists(spec)?;
        self.sweep(spec)?;
        let limit = q.max_units();
        let status_ok = |tx: &Tx<'_>, u: &Unit| -> R<bool> {
            Ok(q.statuses.is_none() || q.admits_status(tx.status_of(u)?))
        };
        let mut out = Vec::new();
        match q.sorted_names() {
            Some(names) => {
                for name in names {
                    if out.len() >= limit {
                        break;
                    }
                    if !q.admits_name(name) {
                        continue;
                    }
                    if let Some(u) = self.unit_named(spec, name)? {
                        if status_ok(self, &u)? {
                            out.push(u.id);
                        }
                    }
                }
            }
            None => {
                let sql = if q.previous_name.is_empty() {
                    format!(
                        "SELECT {UNIT_COLS} FROM work_units WHERE spec = ?1 AND ?2 = ?2 \
                         ORDER BY name"
                    )
                } else {
                    format!(
                        "SELECT {UNIT_COLS} FROM work_units WHERE spec = ?1 AND name > ?2 \
                         ORDER BY name"
                    )
                };
                let mut stmt = self.c.prepare_cached(&sql)?;
                let mut rows = stmt.query(params![spec, q.previous_name])?;
                while out.len() < limit {
                    let Some(row) = rows.next()? else { break };
                    let u = unit_from(unit_raw(row)?)?;
                    if status_ok(self, &u)? {
                        out.push(u.id);
                    }
                }
            }
        }
        Ok(out)
    }

    fn summarize_spec(&mut self, spec: i64) -> R<Summary> {
        self.sweep(spec)?;
        let counts = self.status_counts(spec)?;
        let sref = self.spec_ref(spec)?;
        Ok(counts
            .into_iter()
            .map(|(status, count)| SummaryRecord {
                namespace: sref.ns.name.to_string(),
                work_spec: sref.name.to_string(),
                status,
                count,
            })
            .collect())
    }

    fn specs_of(&self, ns: i64) -> R<Vec<(i64, String)>> {
        let mut stmt = self
            .c
            .prepare_cached("SELECT id, name FROM work_specs WHERE ns = ?1 ORDER BY name")?;
        let rows = stmt.query_map([ns], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<crate::db::Result<_>>()?)
    }

    fn summarize_ns(&mut self, ns: i64) -> R<Summary> {
        let mut out = Vec::new();
        for (spec, _) in self.specs_of(ns)? {
            out.extend(self.summarize_spec(spec)?);
        }
        Ok(out)
    }

    /// Adds the finished attempt's `output` to its spec's `then` spec (the
    /// caller checked that the attempt is still its unit's active attempt).
    fn chain(&mut self, att: &Att) -> R<()> {
        let meta = self.spec_meta(att.spec)?;
        if meta.next_work_spec_name.is_empty() {
            return Ok(()); // no `then`: the data need not be read
        }
        let data = self.attempt_data(att.id)?;
        let Some((next, items)) = rules::chained_units(&meta, &data, self.now) else {
            return Ok(());
        };
        let next_id: Option<i64> = self
            .c
            .prepare_cached(
                "SELECT t.id FROM work_specs s JOIN work_specs t ON t.ns = s.ns \
                 WHERE s.id = ?1 AND t.name = ?2",
            )?
            .query_row(params![att.spec, next], |r| r.get(0))
            .optional()?;
        let Some(next_id) = next_id else {
            return Ok(());
        };
        // Units put may be ones the call's other finishes read ahead.
        self.prefetched.clear();
        for item in items {
            self.put_unit(next_id, &item.key, &item.data, item.meta)?;
        }
        Ok(())
    }

    fn request(&mut self, worker: i64, req: &AttemptRequest) -> R<Vec<AttemptRef>> {
        // The worker and its namespace (which must exist), then every spec
        // of it with its meta, counts and what its sweep has to do, in one
        // query each.
        let (rows, specs) = self.read_with_specs(
            "s.ns = (SELECT ns FROM workers WHERE id = ?1)",
            true,
            crate::db::Value::Int(worker),
            &[WORKER_REF_SQL],
        )?;
        let [wrow] = <[Vec<Row>; 1]>::try_from(rows)
            .map_err(|_| DbError::corrupt("a pipeline lost an answer".into()))?;
        let Some(wref) = wrow
            .first()
            .map(|r| worker_ref_from(worker, r))
            .transpose()?
        else {
            return gone();
        };
        let mut metas = Vec::with_capacity(specs.len());
        for (id, name, sweep) in specs {
            if sweep.expire || sweep.due || sweep.back {
                self.sweep_as(id, sweep)?;
            }
            let meta = self.meta_with_counts(id)?;
            metas.push((id, name, meta));
        }
        // Every spec was swept (as the memory engine does); the scheduler
        // sees the ones the request admits.
        let chosen = rules::choose_spec(
            metas
                .iter()
                .filter(|(_, n, m)| rules::request_admits(req, n, m))
                .map(|(_, n, m)| (n.as_str(), m)),
            self.now,
            &mut *self.rng.lock().unwrap_or_else(PoisonError::into_inner),
        )
        .map(str::to_owned);
        let Some(chosen) = chosen else {
            return Ok(Vec::new());
        };
        let Some((spec, _, mut meta)) = metas.into_iter().find(|(_, n, _)| *n == chosen) else {
            return Ok(Vec::new());
        };
        if meta.max_running > 0 || meta.continuous {
            // The decision reads counts and meta that other claimers change:
            // one claimer at a time, reading them again once it holds the
            // spec (a request that finds the spec full meanwhile gets none).
            self.flush()?;
            self.lock_spec(spec, Lock::SpecClaims)?;
            self.counts.remove(&spec);
            meta = self.meta_with_counts(spec)?;
            if !meta.can_do_work(self.now) {
                return Ok(Vec::new());
            }
        }
        let now = self.now;
        let mut claims = SqlClaims {
            tx: self,
            spec,
            worker,
            want: rules::request_count(&meta, req),
            next: std::collections::VecDeque::new(),
            lifetime: rules::lease(req.lifetime),
            taken: Vec::new(),
            attempts: HashMap::new(),
            failure: None,
        };
        let claimed = rules::request_attempts(&mut claims, &meta, req, now).and_then(|claimed| {
            let attached = claims.attach_taken();
            claims.keep(attached).map(|()| claimed)
        });
        let claimed = match claimed {
            Ok(claimed) => claimed,
            Err(e) => return Err(claims.failure.take().unwrap_or(DbError::Api(e))),
        };
        let attempts = claims.attempts;
        if claimed.is_empty() {
            return Ok(Vec::new());
        }
        // One spec and one worker: name them once, not per attempt.
        let sref = SpecRef {
            ns: wref.ns.clone(),
            id: oid(spec),
            name: Arc::from(chosen),
        };
        claimed
            .into_iter()
            .map(|c| {
                let Some(&id) = attempts.get(&c.unit) else {
                    return Err(DbError::corrupt(format!("unit {} got no attempt", c.unit)));
                };
                Ok(AttemptRef {
                    id: oid(id),
                    unit: UnitRef {
                        spec: sref.clone(),
                        id: oid(c.unit),
                        name: Arc::from(c.name),
                    },
                    worker: wref.clone(),
                })
            })
            .collect()
    }

    /// Runs one operation.
    pub fn run(&mut self, op: Op) -> R<Reply> {
        match op {
            // ---- Coordinate ----
            Op::Namespace { name } => {
                let id: i64 = self
                    .c
                    .prepare_cached(
                        "INSERT INTO namespaces (name) VALUES (?1) \
                         ON CONFLICT (name) DO UPDATE SET name = excluded.name RETURNING id",
                    )?
                    .query_row([&name], |r| r.get(0))?;
                Ok(Reply::Namespace(Self::ns_ref(id, name)))
            }
            Op::Namespaces => {
                let mut stmt = self
                    .c
                    .prepare_cached("SELECT id, name FROM namespaces ORDER BY name")?;
                let rows = stmt.query_map(params![], |r| Ok(Self::ns_ref(r.get(0)?, r.get(1)?)))?;
                Ok(Reply::Namespaces(rows.collect::<crate::db::Result<_>>()?))
            }
            Op::Summarize => {
                let ids: Vec<i64> = {
                    let mut stmt = self
                        .c
                        .prepare_cached("SELECT id FROM namespaces ORDER BY name")?;
                    let rows = stmt.query_map(params![], |r| r.get(0))?;
                    rows.collect::<crate::db::Result<_>>()?
                };
                let mut out = Vec::new();
                for ns in ids {
                    out.extend(self.summarize_ns(ns)?);
                }
                Ok(Reply::Summary(out))
            }
            // ---- Namespace ----
            Op::DestroyNamespace { ns } => {
                let Ok(ns) = rid(ns) else {
                    return Ok(Reply::Done);
                };
                if self.ns_exists(ns).is_err() {
                    return Ok(Reply::Done); // idempotent (§1.3)
                }
                for (spec, _) in self.specs_of(ns)? {
                    self.remove_spec(spec)?;
                }
                // Parent links may cross namespaces: orphans become roots.
                self.c
                    .prepare_cached(
                        "UPDATE workers SET parent = NULL WHERE ns <> ?1 \
                         AND parent IN (SELECT id FROM workers WHERE ns = ?1)",
                    )?
                    .execute([ns])?;
                self.c
                    .prepare_cached("DELETE FROM workers WHERE ns = ?1")?
                    .execute([ns])?;
                self.c
                    .prepare_cached("DELETE FROM namespaces WHERE id = ?1")?
                    .execute([ns])?;
                Ok(Reply::Done)
            }
            Op::SetWorkSpec { ns, data } => {
                let ns = rid(ns)?;
                let ns_name = self.ns_exists(ns)?;
                let (name, meta) = extract_work_spec_meta(&data)?;
                let existing: Option<i64> = self
                    .c
                    .prepare_cached("SELECT id FROM work_specs WHERE ns = ?1 AND name = ?2")?
                    .query_row(params![ns, name], |r| r.get(0))
                    .optional()?;
                let id = match existing {
                    Some(id) => {
                        self.set_spec(id, Some(&data), &meta)?;
                        id
                    }
                    None => {
                        let id: i64 = self
                            .c
                            .prepare_cached(
                                "INSERT INTO work_specs (ns, name, data, meta) \
                                 VALUES (?1, ?2, ?3, ?4) RETURNING id",
                            )?
                            .query_row(
                                params![ns, name, encode_map(&data)?, encode_meta(&meta)?],
                                |r| r.get(0),
                            )?;
                        id
                    }
                };
                Ok(Reply::Spec(SpecRef {
                    ns: Self::ns_ref(ns, ns_name),
                    id: oid(id),
                    name: Arc::from(name),
                }))
            }
            Op::WorkSpec { ns, name } => {
                let ns = rid(ns)?;
                let ns_name = self.ns_exists(ns)?;
                let id: Option<i64> = self
                    .c
                    .prepare_cached("SELECT id FROM work_specs WHERE ns = ?1 AND name = ?2")?
                    .query_row(params![ns, name], |r| r.get(0))
                    .optional()?;
                match id {
                    Some(id) => Ok(Reply::Spec(SpecRef {
                        ns: Self::ns_ref(ns, ns_name),
                        id: oid(id),
                        name: Arc::from(name),
                    })),
                    None => Err(Error::NoSuchWorkSpec { name }.into()),
                }
            }
            Op::DestroyWorkSpec { ns, name } => {
                let ns = rid(ns)?;
                self.ns_exists(ns)?;
                let id: Option<i64> = self
                    .c
                    .prepare_cached("SELECT id FROM work_specs WHERE ns = ?1 AND name = ?2")?
                    .query_row(params![ns, name], |r| r.get(0))
                    .optional()?;
                match id {
                    Some(id) => {
                        self.remove_spec(id)?;
                        Ok(Reply::Done)
                    }
                    None => Err(Error::NoSuchWorkSpec { name }.into()),
                }
            }
            Op::WorkSpecNames { ns } => {
                let ns = rid(ns)?;
                self.ns_exists(ns)?;
                let names = self.specs_of(ns)?.into_iter().map(|(_, n)| n).collect();
                Ok(Reply::Names(names))
            }
            Op::Worker { ns, name } => {
                let ns = rid(ns)?;
                let ns_name = self.ns_exists(ns)?;
                let existing: Option<i64> = self
                    .c
                    .prepare_cached("SELECT id FROM workers WHERE ns = ?1 AND name = ?2")?
                    .query_row(params![ns, name], |r| r.get(0))
                    .optional()?;
                let id = match existing {
                    Some(id) => id,
                    None => self
                        .c
                        .prepare_cached(
                            "INSERT INTO workers (ns, name, parent, active, mode, data, \
                             expiration, last_update) VALUES (?1, ?2, NULL, 1, '', ?3, ?4, ?5) \
                             RETURNING id",
                        )?
                        .query_row(
                            params![
                                ns,
                                name,
                                encode_map(&Map::new())?,
                                encode_time(add(self.now, rules::DEFAULT_LEASE)),
                                encode_time(self.now)
                            ],
                            |r| r.get(0),
                        )?,
                };
                Ok(Reply::Worker(Some(WorkerRef {
                    ns: Self::ns_ref(ns, ns_name),
                    id: oid(id),
                    name: Arc::from(name),
                })))
            }
            Op::Workers { ns } => {
                let ns = rid(ns)?;
                let ns_name = self.ns_exists(ns)?;
                let nsref = Self::ns_ref(ns, ns_name);
                let mut stmt = self
                    .c
                    .prepare_cached("SELECT id, name FROM workers WHERE ns = ?1 ORDER BY name")?;
                let rows = stmt.query_map([ns], |r| {
                    Ok(WorkerRef {
                        ns: nsref.clone(),
                        id: oid(r.get(0)?),
                        name: Arc::from(r.get::<_, String>(1)?),
                    })
                })?;
                Ok(Reply::Workers(rows.collect::<crate::db::Result<_>>()?))
            }
            Op::SummarizeNamespace { ns } => {
                let ns = rid(ns)?;
                self.ns_exists(ns)?;
                Ok(Reply::Summary(self.summarize_ns(ns)?))
            }
            // ---- WorkSpec ----
            Op::SpecData { spec } => {
                let blob: Option<Vec<u8>> = self
                    .c
                    .prepare_cached("SELECT data FROM work_specs WHERE id = ?1")?
                    .query_row([rid(spec)?], |r| r.get(0))
                    .optional()?;
                match blob {
                    Some(b) => Ok(Reply::Data(decode_map(&b)?)),
                    None => gone(),
                }
            }
            Op::SetSpecData { spec, data } => {
                let spec = rid(spec)?;
                // A dead spec answers Gone before its argument is looked at (§1.4).
                let old = self.spec_ref(spec)?;
                let (name, meta) = extract_work_spec_meta(&data)?;
                if *name != *old.name {
                    return Err(Error::ChangedName.into());
                }
                self.set_spec(spec, Some(&data), &meta)?;
                Ok(Reply::Done)
            }
            Op::SpecMeta { spec, with_counts } => {
                let spec = rid(spec)?;
                self.spec_exists(spec)?;
                if with_counts {
                    self.sweep(spec)?;
                    Ok(Reply::SpecMeta(Box::new(self.meta_with_counts(spec)?)))
                } else {
                    Ok(Reply::SpecMeta(Box::new(self.spec_meta(spec)?)))
                }
            }
            Op::SetSpecMeta { spec, meta } => {
                let spec = rid(spec)?;
                let mut stored = self.spec_meta(spec)?;
                stored.apply_settable(&meta);
                self.set_spec_meta(spec, &stored)?;
                Ok(Reply::Done)
            }
            Op::AddWorkUnit {
                spec,
                name,
                data,
                meta,
            } => {
                let spec = rid(spec)?;
                let id = self.put_unit(spec, &name, &data, meta)?;
                let sref = self.spec_ref(spec)?;
                Ok(Reply::Unit(UnitRef {
                    spec: sref,
                    id: oid(id),
                    name: Arc::from(name),
                }))
            }
            Op::AddWorkUnits { spec, items } => {
                let spec = rid(spec)?;
                self.spec_exists(spec)?;
                let items = rules::last_of_each_name(items);
                let n = items.len();
                for AddWorkUnitItem { key, data, meta } in items {
                    self.put_unit(spec, &key, &data, meta)?;
                }
                Ok(Reply::Count(n as u64))
            }
            Op::WorkUnit { spec, name } => {
                let spec = rid(spec)?;
                self.spec_exists(spec)?;
                match self.unit_named(spec, &name)? {
                    Some(u) => {
                        let sref = self.spec_ref(spec)?;
                        Ok(Reply::Unit(UnitRef {
                            spec: sref,
                            id: oid(u.id),
                            name: Arc::from(name),
                        }))
                    }
                    None => Err(Error::NoSuchWorkUnit { name }.into()),
                }
            }
            Op::WorkUnits { spec, query } => {
                let spec = rid(spec)?;
                let ids = self.select(spec, &query)?;
                let sref = self.spec_ref(spec)?;
                let mut out = Vec::with_capacity(ids.len());
                for id in ids {
                    out.push(self.unit_ref(&sref, id)?);
                }
                Ok(Reply::Units(out))
            }
            Op::CountWorkUnitStatus { spec } => {
                let spec = rid(spec)?;
                self.spec_exists(spec)?;
                self.sweep(spec)?;
                let counts: BTreeMap<WorkUnitStatus, i64> =
                    self.status_counts(spec)?.into_iter().collect();
                Ok(Reply::StatusCounts(counts))
            }
            Op::SetWorkUnitPriorities {
                spec,
                query,
                priority,
            } => {
                self.reprioritize(rid(spec)?, &query, |_| priority)?;
                Ok(Reply::Done)
            }
            Op::AdjustWorkUnitPriorities {
                spec,
                query,
                adjustment,
            } => {
                self.reprioritize(rid(spec)?, &query, |p| p + adjustment)?;
                Ok(Reply::Done)
            }
            Op::DeleteWorkUnits { spec, query } => {
                let spec = rid(spec)?;
                let ids = self.select(spec, &query)?;
                let n = ids.len();
                for id in ids {
                    if let Some(u) = self.unit(id)? {
                        self.remove_unit(&u)?;
                    }
                }
                Ok(Reply::Count(n as u64))
            }
            Op::SummarizeSpec { spec } => {
                let spec = rid(spec)?;
                self.spec_exists(spec)?;
                Ok(Reply::Summary(self.summarize_spec(spec)?))
            }
            // ---- WorkUnit ----
            Op::UnitData { unit } => {
                let u = self.unit_at(unit)?;
                let data = match u.active {
                    Some(a) if self.attempt_status_of(a)?.is_some() => self.attempt_data(a)?,
                    _ => self.unit_data(u.id)?,
                };
                Ok(Reply::Data(data))
            }
            Op::UnitStatus { unit } => {
                let u = self.unit_at(unit)?;
                self.sweep(u.spec)?;
                let u = self.unit_at(unit)?;
                Ok(Reply::UnitStatus(self.status_of(&u)?))
            }
            Op::UnitMeta { unit } => {
                let u = self.unit_at(unit)?;
                Ok(Reply::UnitMeta(WorkUnitMeta {
                    priority: decode_priority(u.prio),
                    not_before: u.not_before,
                }))
            }
            Op::SetUnitMeta { unit, meta } => {
                let u = self.unit_at(unit)?;
                self.requeue(&u, meta.priority, meta.not_before)?;
                Ok(Reply::Done)
            }
            Op::SetUnitPriority { unit, priority } => {
                let u = self.unit_at(unit)?;
                let nb = u.not_before;
                self.requeue(&u, priority, nb)?;
                Ok(Reply::Done)
            }
            Op::ActiveAttempt { unit } => {
                let u = self.unit_at(unit)?;
                self.sweep(u.spec)?;
                let u = self.unit_at(unit)?;
                let att = match u.active {
                    Some(a) => self.attempt_ref(a)?,
                    None => None,
                };
                Ok(Reply::Attempt(att.map(Box::new)))
            }
            Op::ClearActiveAttempt { unit } => {
                let u = self.unit_at(unit)?;
                self.clear_active(&u)?;
                Ok(Reply::Done)
            }
            Op::UnitAttempts { unit } => {
                let u = self.unit_at(unit)?;
                Ok(Reply::Attempts(self.attempt_refs("a.unit = ?1", u.id)?))
            }
            Op::NumAttempts { unit } => {
                let u = self.unit_at(unit)?;
                Ok(Reply::Count(u64::try_from(u.num_attempts).unwrap_or(0)))
            }
            // ---- Attempt ----
            Op::AttemptStatus { attempt } => {
                let a = self.attempt_at(attempt)?;
                self.sweep(a.spec)?;
                Ok(Reply::AttemptStatus(self.attempt_at(attempt)?.status))
            }
            Op::AttemptData { attempt } => {
                let a = self.attempt_at(attempt)?;
                Ok(Reply::Data(self.attempt_data(a.id)?))
            }
            Op::AttemptStartTime { attempt } => Ok(Reply::Time(self.attempt_at(attempt)?.start)),
            Op::AttemptEndTime { attempt } => {
                let a = self.attempt_at(attempt)?;
                self.sweep(a.spec)?;
                Ok(Reply::MaybeTime(self.attempt_at(attempt)?.end))
            }
            Op::AttemptExpiration { attempt } => {
                let a = self.attempt_at(attempt)?;
                self.sweep(a.spec)?;
                Ok(Reply::Time(self.attempt_at(attempt)?.expiration))
            }
            Op::Renew {
                attempt,
                extend,
                data,
            } => {
                let a = self.attempt_at(attempt)?;
                match a.status {
                    AttemptStatus::Pending | AttemptStatus::Expired => {}
                    _ => return Err(Error::NotPending.into()),
                }
                self.spec_exists(a.spec)?;
                let active = self.unit(a.unit)?.and_then(|u| u.active) == Some(a.id);
                if !active {
                    self.complete(a.id, AttemptStatus::Expired, data)?;
                    return Err(Error::LostLease.into());
                }
                let expiration = add(self.now, extend);
                let data = data.as_ref().map(encode_map).transpose()?;
                self.c
                    .prepare_cached(
                        "UPDATE attempts SET expiration = ?2, data = COALESCE(?3, data) \
                         WHERE id = ?1",
                    )?
                    .execute(params![a.id, encode_time(expiration), data])?;
                Ok(Reply::Done)
            }
            Op::Expire { attempt, data } => {
                let (a, unit) = self.attempt_and_unit(attempt)?;
                match a.status {
                    AttemptStatus::Pending => {
                        self.complete_read(&a, unit, AttemptStatus::Expired, data)?;
                        Ok(Reply::Done)
                    }
                    AttemptStatus::Expired => Ok(Reply::Done),
                    _ => Err(Error::NotPending.into()),
                }
            }
            Op::Finish { attempt, data } => {
                let (a, unit) = self.attempt_and_unit(attempt)?;
                match a.status {
                    AttemptStatus::Pending | AttemptStatus::Failed => {}
                    _ => return Err(Error::NotPending.into()),
                }
                if self.complete_read(&a, unit, AttemptStatus::Finished, data)? {
                    self.chain(&a)?; // only an attempt still active chains
                }
                Ok(Reply::Done)
            }
            Op::Fail { attempt, data } => {
                let (a, unit) = self.attempt_and_unit(attempt)?;
                match a.status {
                    AttemptStatus::Pending => {
                        self.complete_read(&a, unit, AttemptStatus::Failed, data)?;
                        Ok(Reply::Done)
                    }
                    _ => Err(Error::NotPending.into()),
                }
            }
            Op::Retry {
                attempt,
                data,
                delay,
            } => {
                let a = self.attempt_at(attempt)?;
                if a.status != AttemptStatus::Pending {
                    return Err(Error::NotPending.into());
                }
                self.spec_exists(a.spec)?;
                self.c
                    .prepare_cached(
                        "UPDATE work_units SET not_before = ?3 WHERE id = ?1 AND active = ?2",
                    )?
                    .defer(params![a.unit, a.id, encode_time(add(self.now, delay))])?;
                // The unit is read after that change (its new not_before).
                self.complete_att(&a, AttemptStatus::Retryable, data)?;
                Ok(Reply::Done)
            }
            // ---- Worker ----
            Op::WorkerParent { worker } => {
                let worker = rid(worker)?;
                let parent: Option<Option<i64>> = self
                    .c
                    .prepare_cached("SELECT parent FROM workers WHERE id = ?1")?
                    .query_row([worker], |r| r.get(0))
                    .optional()?;
                let Some(parent) = parent else {
                    return gone();
                };
                let parent = match parent {
                    Some(p) => self.worker_ref(p)?,
                    None => None,
                };
                Ok(Reply::Worker(parent))
            }
            Op::SetParent { worker, parent } => {
                let worker = rid(worker)?;
                self.worker_exists(worker)?;
                let parent = match parent {
                    Some(p) => {
                        let p = rid(p)?;
                        self.worker_exists(p)?;
                        Some(p)
                    }
                    None => None,
                };
                rules::check_parent(worker, parent, |w| -> R<Option<i64>> {
                    let p: Option<Option<i64>> = self
                        .c
                        .prepare_cached("SELECT parent FROM workers WHERE id = ?1")?
                        .query_row([w], |r| r.get(0))
                        .optional()?;
                    Ok(p.flatten())
                })?;
                self.c
                    .prepare_cached("UPDATE workers SET parent = ?2 WHERE id = ?1")?
                    .execute(params![worker, parent])?;
                Ok(Reply::Done)
            }
            Op::Children { worker } => {
                let worker = rid(worker)?;
                self.worker_exists(worker)?;
                let mut stmt = self.c.prepare_cached(
                    "SELECT w.id, w.name, n.id, n.name FROM workers w \
                     JOIN namespaces n ON n.id = w.ns WHERE w.parent = ?1 ORDER BY w.name",
                )?;
                let rows = stmt.query_map([worker], |r| {
                    Ok(WorkerRef {
                        id: oid(r.get(0)?),
                        name: Arc::from(r.get::<_, String>(1)?),
                        ns: Self::ns_ref(r.get(2)?, r.get(3)?),
                    })
                })?;
                Ok(Reply::Workers(rows.collect::<crate::db::Result<_>>()?))
            }
            Op::WorkerActive { worker } => {
                let active: Option<bool> = self
                    .c
                    .prepare_cached("SELECT active FROM workers WHERE id = ?1")?
                    .query_row([rid(worker)?], |r| r.get(0))
                    .optional()?;
                active.map(Reply::Bool).map_or_else(gone, Ok)
            }
            Op::Deactivate { worker } => {
                let n = self
                    .c
                    .prepare_cached("UPDATE workers SET active = 0 WHERE id = ?1")?
                    .execute([rid(worker)?])?;
                if n == 0 {
                    return gone();
                }
                Ok(Reply::Done)
            }
            Op::WorkerMode { worker } => {
                let mode: Option<String> = self
                    .c
                    .prepare_cached("SELECT mode FROM workers WHERE id = ?1")?
                    .query_row([rid(worker)?], |r| r.get(0))
                    .optional()?;
                mode.map(Reply::Text).map_or_else(gone, Ok)
            }
            Op::WorkerData { worker } => {
                let data: Option<Vec<u8>> = self
                    .c
                    .prepare_cached("SELECT data FROM workers WHERE id = ?1")?
                    .query_row([rid(worker)?], |r| r.get(0))
                    .optional()?;
                match data {
                    Some(b) => Ok(Reply::Data(decode_map(&b)?)),
                    None => gone(),
                }
            }
            Op::WorkerExpiration { worker } => self.worker_time(worker, "expiration"),
            Op::WorkerLastUpdate { worker } => self.worker_time(worker, "last_update"),
            Op::UpdateWorker {
                worker,
                data,
                now,
                expiration,
                mode,
            } => {
                let n = self
                    .c
                    .prepare_cached(
                        "UPDATE workers SET active = 1, data = ?2, last_update = ?3, \
                         expiration = ?4, mode = ?5 WHERE id = ?1",
                    )?
                    .execute(params![
                        rid(worker)?,
                        encode_map(&data)?,
                        encode_time(now),
                        encode_time(expiration),
                        mode
                    ])?;
                if n == 0 {
                    return gone();
                }
                Ok(Reply::Done)
            }
            Op::RequestAttempts { worker, request } => {
                let worker = rid(worker)?;
                Ok(Reply::Attempts(self.request(worker, &request)?))
            }
            Op::MakeAttempt {
                worker,
                unit,
                lifetime,
            } => {
                let worker = rid(worker)?;
                self.worker_exists(worker)?;
                let lifetime = rules::lease(lifetime);
                let u = self.unit_at(unit)?;
                let (id, _) = self.start_attempt(&u, worker, lifetime)?;
                match self.attempt_ref(id)? {
                    Some(r) => Ok(Reply::Attempt(Some(Box::new(r)))),
                    None => gone(),
                }
            }
            Op::ActiveAttempts { worker } => {
                let worker = rid(worker)?;
                self.worker_exists(worker)?;
                Ok(Reply::Attempts(self.attempt_refs(
                    &format!("a.worker = ?1 AND a.status = {PENDING}"),
                    worker,
                )?))
            }
            Op::AllAttempts { worker } => {
                let worker = rid(worker)?;
                self.worker_exists(worker)?;
                Ok(Reply::Attempts(self.attempt_refs("a.worker = ?1", worker)?))
            }
            Op::ChildAttempts { worker } => {
                let worker = rid(worker)?;
                self.worker_exists(worker)?;
                let children: Vec<i64> = {
                    let mut stmt = self
                        .c
                        .prepare_cached("SELECT id FROM workers WHERE parent = ?1 ORDER BY name")?;
                    let rows = stmt.query_map([worker], |r| r.get(0))?;
                    rows.collect::<crate::db::Result<_>>()?
                };
                let mut out = Vec::new();
                for child in children {
                    out.extend(
                        self.attempt_refs(
                            &format!("a.worker = ?1 AND a.status = {PENDING}"),
                            child,
                        )?,
                    );
                }
                Ok(Reply::Attempts(out))
            }
        }
    }

    fn worker_time(&self, worker: Id, column: &str) -> R<Reply> {
        let sql = match column {
            "expiration" => "SELECT expiration FROM workers WHERE id = ?1",
            _ => "SELECT last_update FROM workers WHERE id = ?1",
        };
        let t: Option<Vec<u8>> = self
            .c
            .prepare_cached(sql)?
            .query_row([rid(worker)?], |r| r.get(0))
            .optional()?;
        match t {
            Some(b) => Ok(Reply::Time(decode_time(&b)?)),
            None => gone(),
        }
    }

    fn reprioritize(&mut self, spec: i64, q: &WorkUnitQuery, f: impl Fn(f64) -> f64) -> R<()> {
        let ids = self.select(spec, q)?;
        for id in ids {
            if let Some(u) = self.unit(id)? {
                let nb = u.not_before;
                self.requeue(&u, f(decode_priority(u.prio)), nb)?;
            }
        }
        Ok(())
    }
}

/// The request algorithm's claims on one spec, inside the transaction. The
/// units it takes are attached (their attempts created) all at once, by two
/// statements for the whole request (`attach_taken`), when the algorithm is
/// done or needs an attempt that exists.
struct SqlClaims<'t, 'a> {
    tx: &'t mut Tx<'a>,
    spec: i64,
    worker: i64,
    /// How many units the request takes (`rules::request_count`): the
    /// candidates are read that many at a time.
    want: i64,
    /// Available units read and locked, not yet handed out, best first:
    /// id, name, attempts so far.
    next: std::collections::VecDeque<(i64, String, i64)>,
    /// The request's lease.
    lifetime: TimeDelta,
    /// Units handed out and not yet attached, with their attempt counts
    /// (this one included).
    taken: Vec<(i64, i64)>,
    /// The attempt of each unit handed out, once attached.
    attempts: HashMap<i64, i64>,
    /// A store failure, kept whole (its SQLite code decides between
    /// `Storage` and `Unavailable`) while `rules` sees a stand-in error.
    failure: Option<DbError>,
}

impl SqlClaims<'_, '_> {
    fn keep<T>(&mut self, r: R<T>) -> coordinate::Result<T> {
        r.map_err(|e| match e {
            DbError::Api(e) => e,
            other => {
                self.failure = Some(other);
                Error::Storage {
                    reason: "store failure".into(),
                }
            }
        })
    }

    /// Creates the Pending attempts of the units taken so far, with one
    /// INSERT and one UPDATE for all of them (one round trip on
    /// PostgreSQL), and keeps their ids.
    fn attach_taken(&mut self) -> R<()> {
        if self.taken.is_empty() {
            return Ok(());
        }
        let tx = &mut *self.tx;
        let ids = id_array(self.taken.iter().map(|(u, _)| *u));
        let insert = [
            crate::db::Value::Int(self.spec),
            ids.clone(),
            crate::db::Value::Int(self.worker),
            crate::db::Value::Blob(encode_time(tx.now).to_vec()),
            crate::db::Value::Blob(encode_time(add(tx.now, self.lifetime)).to_vec()),
        ];
        let update = [ids];
        let rows = tx.c.rows_many(&[
            (
                &format!(
                    // In the order they were taken (one read of the
                    // available units' index, so in its order).
                    "INSERT INTO attempts (spec, unit, worker, status, data, start_time, \
                     expiration, expiring) SELECT ?1, u.id, ?3, 0, u.data, ?4, ?5, 1 \
                     FROM work_units u WHERE {} ORDER BY u.prio DESC, u.name \
                     RETURNING unit, id",
                    tx.c.among("u.id", &tx.c.json_ids("?2"))
                ),
                &insert,
            ),
            (
                &format!(
                    "UPDATE work_units SET queue = NULL, num_attempts = num_attempts + 1, \
                     active = (SELECT MAX(a.id) FROM attempts a WHERE a.unit = work_units.id) \
                     WHERE {}",
                    tx.c.among("id", &tx.c.json_ids("?1"))
                ),
                &update,
            ),
        ])?;
        for r in rows.first().into_iter().flatten() {
            self.attempts.insert(r.get(0)?, r.get(1)?);
        }
        let taken = std::mem::take(&mut self.taken);
        if self.attempts.len() < taken.len()
            || taken.iter().any(|(u, _)| !self.attempts.contains_key(u))
        {
            return Err(DbError::corrupt(
                "a unit taken by a request vanished".into(),
            ));
        }
        tx.adjust(self.spec, |c| c.pending += taken.len() as i64)?;
        for (unit, n) in taken {
            if n > 1 {
                tx.keep_attempts(self.spec, unit, n)?;
            }
        }
        Ok(())
    }

    /// The attempt a claim started (attaching what was taken first).
    fn attempt_of(&mut self, claimed: &Claimed) -> R<i64> {
        self.attach_taken()?;
        match self.attempts.get(&claimed.unit) {
            Some(&id) => Ok(id),
            None => Err(DbError::corrupt(format!(
                "unit {} got no attempt",
                claimed.unit
            ))),
        }
    }
}

/// A unit a request handed out: its id and name (its attempt is in
/// `SqlClaims::attempts` once attached).
struct Claimed {
    unit: i64,
    name: String,
}

impl Claims for SqlClaims<'_, '_> {
    type Attempt = Claimed;

    fn start_next(
        &mut self,
        lifetime: TimeDelta,
        _now: Time,
    ) -> coordinate::Result<Option<(Claimed, u64)>> {
        self.lifetime = lifetime;
        let r = (|| {
            if self.next.is_empty() {
                // Units taken are still queued in the table (and locked by
                // this transaction, which a read that skips locked rows
                // does not skip): attach them before reading more.
                self.attach_taken()?;
                // The best units no other connection is claiming (claims
                // of one spec do not wait on each other), read in one walk
                // of the index for the whole request.
                let tx = &mut *self.tx;
                let mut stmt = tx.c.prepare_cached(&format!(
                    "SELECT id, name, num_attempts FROM work_units WHERE spec = ?1 \
                     AND queue = 0 ORDER BY prio DESC, name LIMIT ?2{}",
                    tx.c.lock(Lock::SkipLocked)
                ))?;
                for row in stmt.query_map(params![self.spec, self.want], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?))
                })? {
                    self.next.push_back(row?);
                }
            }
            let Some((unit, name, attempts)) = self.next.pop_front() else {
                return Ok(None);
            };
            self.tx.adjust(self.spec, |c| c.available -= 1)?;
            let n = attempts + 1;
            self.taken.push((unit, n));
            Ok(Some((
                Claimed { unit, name },
                u64::try_from(n).unwrap_or(0),
            )))
        })();
        self.keep(r)
    }

    fn start_continuous(
        &mut self,
        name: &str,
        next: Time,
        lifetime: TimeDelta,
        _now: Time,
    ) -> coordinate::Result<(Claimed, u64)> {
        let (spec, worker) = (self.spec, self.worker);
        let r = (|| {
            self.attach_taken()?;
            let tx = &mut *self.tx;
            let id = match tx.unit_named(spec, name)? {
                Some(u) => u.id,
                None => tx.put_unit(spec, name, &Map::new(), WorkUnitMeta::default())?,
            };
            let mut meta = tx.spec_meta(spec)?;
            meta.next_continuous = Some(next);
            tx.set_spec_meta(spec, &meta)?;
            let Some(u) = tx.unit(id)? else {
                return gone();
            };
            let (att, n) = tx.start_attempt(&u, worker, lifetime)?;
            self.attempts.insert(id, att);
            let claimed = Claimed {
                unit: id,
                name: name.to_owned(),
            };
            Ok((claimed, n))
        })();
        self.keep(r)
    }

    fn fail(&mut self, attempt: &Claimed, data: Map, _now: Time) -> coordinate::Result<()> {
        let r = self
            .attempt_of(attempt)
            .and_then(|id| self.tx.complete(id, AttemptStatus::Failed, Some(data)));
        self.keep(r)
    }
}
