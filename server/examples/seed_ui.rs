//! Seeds a `coordinated` with a small, known store for the dashboard's
//! browser test, and reads the store back through the same API, so the
//! test checks the page against the store and never against itself.
//!
//! ```text
//! seed_ui URL seed                  # namespaces, specs, units, workers, attempts
//! seed_ui URL counts NS SPEC        # {"available": n, ..., "paused": b, "priority": p}
//! seed_ui URL status NS SPEC UNIT   # the unit's status
//! seed_ui URL work NS SPEC N        # a worker finishes N more units of SPEC
//! seed_ui URL bulk NS SPEC N        # N units u0000000... (to measure the pages at scale)
//! ```
//!
//! The token, if the daemon has one, comes from `COORDINATE_TOKEN`.

use std::process::ExitCode;

use chrono::TimeDelta;
use coordinate::{
    map, AddWorkUnitItem, AttemptRequest, ConnectOptions, Coordinate, Map, Value, WorkUnitMeta,
    WorkUnitStatus,
};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("seed_ui: {e}");
            ExitCode::FAILURE
        }
    }
}

type Res<T> = Result<T, Box<dyn std::error::Error>>;

fn arg<'a>(args: &'a [String], i: usize, what: &str) -> Res<&'a str> {
    args.get(i)
        .map(String::as_str)
        .ok_or_else(|| format!("missing argument {i}: {what}").into())
}

fn run(args: &[String]) -> Res<()> {
    coordinate_server::install();
    let url = arg(args, 0, "the daemon's URL")?;
    let options = ConnectOptions {
        token: std::env::var("COORDINATE_TOKEN").ok(),
        ..ConnectOptions::default()
    };
    let coord = Coordinate::connect(url, options)?;
    match arg(args, 1, "a command: seed, counts, status, work")? {
        "seed" => seed(&coord),
        "counts" => {
            let ws = coord.namespace(arg(args, 2, "namespace")?)?.work_spec(arg(
                args,
                3,
                "work spec",
            )?)?;
            let counts = ws.count_work_unit_status()?;
            let meta = ws.meta(false)?;
            let mut parts: Vec<String> = [
                WorkUnitStatus::Available,
                WorkUnitStatus::Pending,
                WorkUnitStatus::Delayed,
                WorkUnitStatus::Finished,
                WorkUnitStatus::Failed,
            ]
            .iter()
            .map(|s| format!("\"{s}\": {}", counts.get(s).copied().unwrap_or(0)))
            .collect();
            parts.push(format!("\"paused\": {}", meta.paused));
            parts.push(format!("\"priority\": {}", meta.priority));
            println!("{{{}}}", parts.join(", "));
            Ok(())
        }
        "status" => {
            let unit = coord
                .namespace(arg(args, 2, "namespace")?)?
                .work_spec(arg(args, 3, "work spec")?)?
                .work_unit(arg(args, 4, "work unit")?)?;
            println!("{}", unit.status()?);
            Ok(())
        }
        "work" => {
            let ns = coord.namespace(arg(args, 2, "namespace")?)?;
            let spec = arg(args, 3, "work spec")?;
            let n: i64 = arg(args, 4, "how many")?.parse()?;
            let worker = ns.worker("late-worker")?;
            let attempts = worker.request_attempts(&AttemptRequest {
                number_of_work_units: n,
                work_specs: vec![spec.to_owned()],
                lifetime: TimeDelta::minutes(30),
                ..AttemptRequest::default()
            })?;
            for a in &attempts {
                a.finish(None)?;
            }
            println!("{}", attempts.len());
            Ok(())
        }
        "bulk" => {
            let ws = coord
                .namespace(arg(args, 2, "namespace")?)?
                .set_work_spec(spec(arg(args, 3, "work spec")?, 0, 20))?;
            let n: usize = arg(args, 4, "how many")?.parse()?;
            let langs = ["en", "fr", "de"];
            for start in (0..n).step_by(10_000) {
                let items = (start..n.min(start + 10_000))
                    .map(|i| AddWorkUnitItem {
                        key: format!("u{i:07}"),
                        data: map([("lang", langs[i % 3])]),
                        meta: WorkUnitMeta::default(),
                    })
                    .collect();
                ws.add_work_units(items)?;
            }
            println!("{n}");
            Ok(())
        }
        other => Err(format!("unknown command {other:?}").into()),
    }
}

fn spec(name: &str, priority: i64, weight: i64) -> Map {
    map([
        ("name", Value::from(name)),
        ("priority", Value::from(priority)),
        ("weight", Value::from(weight)),
        ("max_getwork", Value::from(100)),
    ])
}

const TRACEBACK: &str = "Traceback (most recent call last):\n  \
    File \"worker.py\", line 42, in run\n    render(page)\n  \
    File \"render.py\", line 7, in render\n    raise ValueError(\"bad <page> & co\")\n\
    ValueError: bad <page> & co";

fn seed(coord: &Coordinate) -> Res<()> {
    let now = coord.now();
    let demo = coord.namespace("demo")?;
    let ingest = demo.set_work_spec(spec("ingest", 10, 20))?;
    let render = demo.set_work_spec(spec("render", 5, 5))?;
    demo.set_work_spec(spec("report", 0, 1))?;
    let langs = ["en", "fr", "de"];
    ingest.add_work_units(
        (0..300)
            .map(|i| AddWorkUnitItem {
                key: format!("doc-{i:03}"),
                data: map([
                    ("lang", Value::from(langs[i % 3])),
                    ("size", Value::from(i64::try_from(i * 7).unwrap_or(0))),
                ]),
                meta: WorkUnitMeta::default(),
            })
            .collect(),
    )?;
    render.add_work_units(
        (0..50)
            .map(|i| AddWorkUnitItem {
                key: format!("frame-{i:02}"),
                data: map([("frame", i64::from(i))]),
                meta: WorkUnitMeta::default(),
            })
            .collect(),
    )?;
    // The worker tree: two hosts, each a parent of its processes.
    let expiry = now + TimeDelta::minutes(15);
    let host_a = demo.worker("host-a")?;
    let host_b = demo.worker("host-b")?;
    let a1 = demo.worker("host-a/1")?;
    let a2 = demo.worker("host-a/2")?;
    let b1 = demo.worker("host-b/1")?;
    for (w, parent, mode) in [
        (&host_a, None, "run"),
        (&host_b, None, "idle"),
        (&a1, Some(&host_a), "run"),
        (&a2, Some(&host_a), "run"),
        (&b1, Some(&host_b), "idle"),
    ] {
        w.update(map([("host", w.name())]), now, expiry, mode)?;
        w.set_parent(parent)?;
    }
    let request = |n: i64, spec: &str| AttemptRequest {
        number_of_work_units: n,
        work_specs: vec![spec.to_owned()],
        lifetime: TimeDelta::minutes(30),
        ..AttemptRequest::default()
    };
    // ingest: 30 finished, 10 failed, 5 pending.
    for (i, a) in a1
        .request_attempts(&request(40, "ingest"))?
        .iter()
        .enumerate()
    {
        if i % 4 == 3 {
            a.fail(Some(map([
                ("traceback", Value::from(TRACEBACK)),
                ("exit_code", Value::from(1)),
            ])))?;
        } else {
            a.finish(Some(map([("pages", Value::from(12))])))?;
        }
    }
    a2.request_attempts(&request(5, "ingest"))?;
    // render: 4 failed (two of them once retried), 6 finished.
    for (i, a) in b1
        .request_attempts(&request(10, "render"))?
        .iter()
        .enumerate()
    {
        if i < 4 {
            a.fail(Some(map([("traceback", Value::from(TRACEBACK))])))?;
        } else {
            a.finish(None)?;
        }
    }
    // Added after the requests, so no attempt's data replaces its own.
    render.add_work_unit(
        "<script>alert(1)</script>",
        map([("html", "<b>not bold</b>")]),
        WorkUnitMeta::default(),
    )?;
    let billing = coord.namespace("billing")?;
    let invoices = billing.set_work_spec(spec("invoices", 1, 20))?;
    for i in 0..12 {
        invoices.add_work_unit(
            &format!("invoice-{i:02}"),
            map([("amount", Value::from(100.5 * f64::from(i)))]),
            WorkUnitMeta::default(),
        )?;
    }
    let mut meta = invoices.meta(false)?;
    meta.paused = true;
    invoices.set_meta(&meta)?;
    println!("seeded");
    Ok(())
}
