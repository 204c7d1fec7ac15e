//! Child processes for the crate's durability and multi-process tests and
//! benchmarks (not a user tool). Each subcommand opens a store by URL
//! (`sqlite:` or a path, `postgresql:`) with
//! the system clock, prints one line per event on stdout (flushed), and
//! exits non-zero with the error on stderr when any call fails.
//!
//! - `drain URL SPEC LEASE_MS`: request one unit, finish it, print
//!   `finished NAME`; waits while other units are pending (a killed
//!   predecessor's leases expire after LEASE_MS); prints `done` at the end.
//! - `work URL SPEC BATCH [CONNS]`: like `drain` with BATCH units per
//!   request, printing `attempt ID NAME` after each finish, on CONNS
//!   connections (threads, each its own worker; 1 by default); for several
//!   processes.
//! - `hold URL SPEC N LEASE_MS`: takes N units, prints `held N`, then sleeps
//!   until killed.
//! - `fill URL`: adds units with 64 KiB of data until a call fails, prints
//!   the error's code and message, exits 0 (for the full-disk test).
//! - `open URL`: opens the store and prints `ok` or the error.

use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

use chrono::TimeDelta;
use coordinate::backend::{Op, Reply};
use coordinate::{AttemptRequest, Backend, Error, Map, Value, WorkUnitStatus};
use std::sync::Arc;

use coordinate_sql::{PgBackend, SqliteBackend};

fn call(b: &dyn Backend, op: Op) -> Result<Reply, String> {
    b.call(op).map_err(|e| format!("{}: {e}", e.code()))
}

fn setup(b: &dyn Backend, spec: &str, thread: i64) -> Result<(u64, u64), String> {
    let ns = match call(
        b,
        Op::Namespace {
            name: "drill".into(),
        },
    )? {
        Reply::Namespace(n) => n.id,
        r => return Err(format!("unexpected {r:?}")),
    };
    let spec_id = match call(
        b,
        Op::WorkSpec {
            ns,
            name: spec.into(),
        },
    )? {
        Reply::Spec(s) => s.id,
        r => return Err(format!("unexpected {r:?}")),
    };
    let worker = match call(
        b,
        Op::Worker {
            ns,
            name: format!("pid-{}-{thread}", std::process::id()),
        },
    )? {
        Reply::Worker(Some(w)) => w.id,
        r => return Err(format!("unexpected {r:?}")),
    };
    Ok((spec_id, worker))
}

fn pending(b: &dyn Backend, spec: u64) -> Result<i64, String> {
    match call(b, Op::CountWorkUnitStatus { spec })? {
        Reply::StatusCounts(c) => Ok(c.get(&WorkUnitStatus::Pending).copied().unwrap_or(0)
            + c.get(&WorkUnitStatus::Available).copied().unwrap_or(0)
            + c.get(&WorkUnitStatus::Delayed).copied().unwrap_or(0)),
        r => Err(format!("unexpected {r:?}")),
    }
}

/// Opens a store by URL: PostgreSQL for `postgresql:`/`postgres:`, else SQLite.
fn open(url: &str) -> Result<Arc<dyn Backend>, Error> {
    Ok(match coordinate::scheme_of(url) {
        "postgresql" | "postgres" => Arc::new(PgBackend::open(url, &Default::default())?),
        _ => Arc::new(SqliteBackend::open(url, &Default::default())?),
    })
}

/// `drain` on `conns` connections (threads) of one process, each its own
/// worker; fails when any of them does.
fn drain_on(url: &str, spec: &str, batch: i64, lease_ms: i64, conns: i64) -> Result<(), String> {
    let threads: Vec<_> = (0..conns.max(1))
        .map(|i| {
            let (url, spec) = (url.to_owned(), spec.to_owned());
            std::thread::spawn(move || drain(&url, &spec, batch, lease_ms, true, i))
        })
        .collect();
    for t in threads {
        t.join()
            .map_err(|_| "a drain thread panicked".to_owned())??;
    }
    println!("done");
    Ok(())
}

fn drain(
    url: &str,
    spec: &str,
    batch: i64,
    lease_ms: i64,
    verbose_ids: bool,
    thread: i64,
) -> Result<(), String> {
    let b = open(url).map_err(|e| e.to_string())?;
    let b = &*b;
    let (spec_id, worker) = setup(b, spec, thread)?;
    let out = std::io::stdout();
    let request = AttemptRequest {
        number_of_work_units: batch,
        lifetime: TimeDelta::milliseconds(lease_ms),
        work_specs: vec![spec.to_owned()],
        ..Default::default()
    };
    loop {
        let attempts = match call(
            b,
            Op::RequestAttempts {
                worker,
                request: request.clone(),
            },
        )? {
            Reply::Attempts(a) => a,
            r => return Err(format!("unexpected {r:?}")),
        };
        if attempts.is_empty() {
            if pending(b, spec_id)? == 0 {
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
            continue;
        }
        // Batches are finished in one call (one transaction), then logged.
        if attempts.len() > 1 {
            let ops = attempts
                .iter()
                .map(|a| Op::Finish {
                    attempt: a.id,
                    data: None,
                })
                .collect();
            for r in b.batch(ops).map_err(|e| format!("{}: {e}", e.code()))? {
                r.map_err(|e| format!("{}: {e}", e.code()))?;
            }
        }
        for a in &attempts {
            if attempts.len() == 1 {
                call(
                    b,
                    Op::Finish {
                        attempt: a.id,
                        data: None,
                    },
                )?;
            }
            let mut out = out.lock();
            let line = if verbose_ids {
                writeln!(out, "attempt {} {}", a.id, a.unit.name)
            } else {
                writeln!(out, "finished {}", a.unit.name)
            };
            line.and_then(|_| out.flush()).map_err(|e| e.to_string())?;
        }
    }
    if thread == 0 && !verbose_ids {
        println!("done");
    }
    Ok(())
}

fn hold(url: &str, spec: &str, n: i64, lease_ms: i64) -> Result<(), String> {
    let b = open(url).map_err(|e| e.to_string())?;
    let b = &*b;
    let (_, worker) = setup(b, spec, 0)?;
    let request = AttemptRequest {
        number_of_work_units: n,
        lifetime: TimeDelta::milliseconds(lease_ms),
        ..Default::default()
    };
    let got = match call(b, Op::RequestAttempts { worker, request })? {
        Reply::Attempts(a) => a.len(),
        r => return Err(format!("unexpected {r:?}")),
    };
    println!("held {got}");
    std::io::stdout().flush().map_err(|e| e.to_string())?;
    loop {
        std::thread::sleep(Duration::from_secs(60));
    }
}

fn fill(url: &str) -> Result<(), String> {
    let b = SqliteBackend::open(url, &Default::default()).map_err(|e| format!("open: {e}"))?;
    let ns = match call(
        &b,
        Op::Namespace {
            name: "drill".into(),
        },
    )? {
        Reply::Namespace(n) => n.id,
        r => return Err(format!("unexpected {r:?}")),
    };
    let data: Map = [("name".to_owned(), Value::from("s"))].into();
    let spec = match call(&b, Op::SetWorkSpec { ns, data })? {
        Reply::Spec(s) => s.id,
        r => return Err(format!("unexpected {r:?}")),
    };
    let blob: Map = [("blob".to_owned(), Value::Bytes(vec![7u8; 65_536]))].into();
    for i in 0u64.. {
        let op = Op::AddWorkUnit {
            spec,
            name: format!("u{i}"),
            data: blob.clone(),
            meta: Default::default(),
        };
        if let Err(e) = b.call(op) {
            println!("{} {} {e}", e.code(), i);
            // The store still answers after the failed call.
            match b.call(Op::CountWorkUnitStatus { spec }) {
                Ok(Reply::StatusCounts(c)) => {
                    println!(
                        "available {}",
                        c.get(&WorkUnitStatus::Available).copied().unwrap_or(0)
                    )
                }
                other => println!("after: {other:?}"),
            }
            return Ok(());
        }
    }
    Ok(())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |i: usize| args.get(i).map(String::as_str).unwrap_or("");
    let num = |i: usize| arg(i).parse::<i64>().unwrap_or(0);
    let result = match arg(0) {
        "drain" => drain(arg(1), arg(2), 1, num(3), false, 0),
        "work" => drain_on(arg(1), arg(2), num(3).max(1), 900_000, num(4).max(1)),
        "hold" => hold(arg(1), arg(2), num(3), num(4)),
        "fill" => fill(arg(1)),
        "open" => match open(arg(1)) {
            Ok(_) => {
                println!("ok");
                Ok(())
            }
            Err(e @ (Error::Storage { .. } | Error::BadUrl { .. } | Error::Unavailable { .. })) => {
                println!("{} {e}", e.code());
                Ok(())
            }
            Err(e) => Err(e.to_string()),
        },
        other => Err(format!("unknown subcommand {other:?}")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("coordinate-sql-drill: {e}");
            ExitCode::FAILURE
        }
    }
}
