//! Replays the shared conformance corpus (`tests/conformance/*.json`, format
//! in `tests/README.md`) against the Rust API, one test per scenario, on
//! whatever store a factory gives. Included by each store's runner
//! (`core/tests/conformance.rs` for memory, the SQL and server crates for
//! theirs) with `#[path = ".../support/corpus.rs"] mod corpus;`.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use base64::Engine as _;
use chrono::{DateTime, SecondsFormat, TimeDelta, Utc};
use coordinate::*;
use libtest_mimic::{Arguments, Failed, Trial};
use serde_json::{json, Value as J};

/// Makes the fresh Coordinate a scenario runs on: its clock (to pass to
/// the store, which must read time from it) and its seed.
pub type StoreFactory = Arc<dyn Fn(&MockClock, u64) -> Result<Coordinate, Error> + Send + Sync>;

/// A factory for `connect(url)` with the scenario's clock and seed.
#[allow(dead_code)]
pub fn connect_factory(url: String) -> StoreFactory {
    Arc::new(move |clock, seed| {
        Coordinate::connect(
            &url,
            ConnectOptions {
                clock: Some(Arc::new(clock.clone())),
                seed: Some(seed),
                ..Default::default()
            },
        )
    })
}

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/conformance")
}

/// Runs every scenario as a test on stores from `store`; `host` names the
/// skip list that applies (`rust`, `sqlite`, `http`, ...).
pub fn main(host: &'static str, store: StoreFactory) {
    let args = Arguments::from_args();
    let dir = corpus_dir();
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("corpus directory")
        .map(|e| e.expect("directory entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "json") && !p.ends_with("index.json"))
        .collect();
    files.sort();
    let mut scenarios = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).expect("corpus file");
        let list: Vec<J> = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("{}: invalid JSON: {e}", file.display()));
        scenarios.extend(list);
    }
    let mut trials = vec![coverage_trial(&scenarios, host)];
    let mut skipped = Vec::new();
    for sc in scenarios {
        let id = sc["id"].as_str().unwrap_or("?").to_owned();
        let skip = sc["skip"][host].as_str().map(str::to_owned);
        if let Some(reason) = &skip {
            skipped.push(format!("{id}: {reason}"));
        }
        let store = store.clone();
        let trial = Trial::test(id, move || run_scenario(&sc, &store).map_err(Failed::from));
        trials.push(trial.with_ignored_flag(skip.is_some()));
    }
    for s in &skipped {
        println!("skipped on {host}: {s}");
    }
    libtest_mimic::run(&args, trials).exit();
}

/// Every catalogue id has a scenario or is marked host-level.
fn coverage_trial(scenarios: &[J], host: &str) -> Trial {
    let index: J = serde_json::from_str(
        &std::fs::read_to_string(corpus_dir().join("index.json")).expect("index.json"),
    )
    .expect("index.json is JSON");
    let covered: BTreeSet<String> = scenarios
        .iter()
        .flat_map(|s| s["covers"].as_array().cloned().unwrap_or_default())
        .filter_map(|c| c.as_str().map(str::to_owned))
        .collect();
    let skipped = scenarios
        .iter()
        .filter(|s| !s["skip"][host].is_null())
        .count();
    let catalogue: Vec<String> = index["catalogue"]
        .as_array()
        .expect("catalogue list")
        .iter()
        .filter_map(|c| c.as_str().map(str::to_owned))
        .collect();
    let missing: Vec<String> = catalogue
        .iter()
        .filter(|id| !covered.contains(*id) && index["host_level"][id.as_str()].is_null())
        .cloned()
        .collect();
    println!(
        "conformance: {}/{} catalogue entries covered, {} skipped",
        catalogue.len() - missing.len(),
        catalogue.len(),
        skipped
    );
    let unknown: Vec<String> = covered
        .iter()
        .filter(|c| !catalogue.contains(c))
        .cloned()
        .collect();
    Trial::test("catalogue-coverage", move || {
        if !missing.is_empty() {
            return Err(format!("catalogue entries without a scenario: {missing:?}").into());
        }
        if !unknown.is_empty() {
            return Err(format!("scenarios cover unknown ids: {unknown:?}").into());
        }
        Ok(())
    })
}

/// A result or bound object.
#[derive(Clone)]
enum Obj {
    Json(J),
    Coord,
    Clock,
    Ns(Namespace),
    Spec(WorkSpec),
    Unit(WorkUnit),
    Worker(Worker),
    Attempt(Attempt),
    List(Vec<Obj>),
    Map(BTreeMap<String, Obj>),
}

/// A failed call: an API error (compared with `error`) or a runner problem.
struct Fail {
    code: String,
    message: String,
}

impl From<Error> for Fail {
    fn from(e: Error) -> Self {
        Fail {
            code: e.code().into(),
            message: e.to_string(),
        }
    }
}

fn runner(message: String) -> Fail {
    Fail {
        code: "RunnerError".into(),
        message,
    }
}

type Res = Result<Obj, Fail>;

struct Env {
    clock: MockClock,
    coord: Coordinate,
    vars: HashMap<String, Obj>,
}

fn run_scenario(sc: &J, store: &StoreFactory) -> Result<(), String> {
    let start = time(&sc["clock"]).map_err(|f| f.message)?;
    let clock = MockClock::new(start);
    let seed = sc["seed"].as_u64().unwrap_or(0);
    let coord = store(&clock, seed).map_err(|e| format!("opening the store: {e}"))?;
    let mut env = Env {
        clock,
        coord,
        vars: HashMap::new(),
    };
    env.vars.insert("coord".into(), Obj::Coord);
    env.vars.insert("clock".into(), Obj::Clock);
    let mut outcome = Ok(());
    for (i, step) in sc["steps"].as_array().ok_or("no steps")?.iter().enumerate() {
        if let Err(e) = run_step(&mut env, step) {
            outcome = Err(format!("step {i} ({}): {e}", step));
            break;
        }
    }
    let closed = env.coord.close();
    outcome?;
    closed.map_err(|e| format!("closing the store: {e}"))
}

fn run_step(env: &mut Env, step: &J) -> Result<(), String> {
    let empty = json!({});
    let args = if step["args"].is_null() {
        &empty
    } else {
        &step["args"]
    };
    if let Some(trials) = step.get("trials") {
        return run_trials(env, step, args, trials);
    }
    let result = call(env, step, args);
    match (result, step.get("error")) {
        (Ok(_), Some(code)) => Err(format!("expected error {code}, call succeeded")),
        (Err(f), Some(code)) => {
            if f.code != code.as_str().unwrap_or("") {
                return Err(format!(
                    "expected error {code}, got {}: {}",
                    f.code, f.message
                ));
            }
            match step.get("message").and_then(J::as_str) {
                Some(m) if m != f.message => {
                    Err(format!("expected message {m:?}, got {:?}", f.message))
                }
                _ => Ok(()),
            }
        }
        (Err(f), None) => Err(format!("unexpected error {}: {}", f.code, f.message)),
        (Ok(obj), None) => {
            let actual = canonical(&obj);
            if let Some(expect) = step.get("expect") {
                if !same(expect, &actual) {
                    return Err(format!("expected {expect}, got {actual}"));
                }
            }
            if let Some(fields) = step.get("expect_fields").and_then(J::as_object) {
                for (k, v) in fields {
                    if !same(v, &actual[k]) {
                        return Err(format!("field {k}: expected {v}, got {}", actual[k]));
                    }
                }
            }
            if let Some(n) = step.get("expect_len").and_then(J::as_u64) {
                let len = match &actual {
                    J::Array(a) => a.len(),
                    J::Object(o) => o.len(),
                    _ => return Err(format!("expect_len on {actual}")),
                };
                if len as u64 != n {
                    return Err(format!("expected {n} entries, got {len}: {actual}"));
                }
            }
            if let Some(name) = step.get("as").and_then(J::as_str) {
                env.vars.insert(name.into(), obj.clone());
            }
            if let Some(names) = step.get("as_each").and_then(J::as_array) {
                let Obj::List(items) = obj else {
                    return Err("as_each on a result that is not a list".into());
                };
                if items.len() != names.len() {
                    return Err(format!(
                        "as_each wants {} items, got {}",
                        names.len(),
                        items.len()
                    ));
                }
                for (name, item) in names.iter().zip(items) {
                    env.vars.insert(name.as_str().unwrap_or("").into(), item);
                }
            }
            Ok(())
        }
    }
}

fn run_trials(env: &mut Env, step: &J, args: &J, trials: &J) -> Result<(), String> {
    let count = trials["count"].as_u64().ok_or("trials.count")?;
    let seed_arg = trials["seed_arg"].as_str().ok_or("trials.seed_arg")?;
    let first = trials["first_seed"].as_u64().ok_or("trials.first_seed")?;
    let mut tally: BTreeMap<String, u64> = BTreeMap::new();
    for i in 0..count {
        let mut a = args.clone();
        a[seed_arg] = json!(first + i);
        let key = match call(env, step, &a) {
            Ok(obj) => match canonical(&obj) {
                J::String(s) => s,
                other => other.to_string(),
            },
            Err(f) => f.code,
        };
        *tally.entry(key).or_default() += 1;
    }
    let bounds = step["expect_tally"].as_object().ok_or("expect_tally")?;
    for (key, n) in &tally {
        let b = bounds
            .get(key)
            .ok_or_else(|| format!("unexpected result {key} ({n} times): {tally:?}"))?;
        let (lo, hi) = (b[0].as_u64().unwrap_or(0), b[1].as_u64().unwrap_or(0));
        if *n < lo || *n > hi {
            return Err(format!("{key}: {n} not in [{lo}, {hi}]: {tally:?}"));
        }
    }
    for (key, b) in bounds {
        if !tally.contains_key(key) && b[0].as_u64().unwrap_or(0) > 0 {
            return Err(format!("{key} never chosen: {tally:?}"));
        }
    }
    Ok(())
}

/// Expected vs actual, with integers and floats equal by value.
fn same(expect: &J, actual: &J) -> bool {
    match (expect, actual) {
        (J::Number(a), J::Number(b)) => a.as_f64() == b.as_f64(),
        (J::Array(a), J::Array(b)) => {
            a.len() == b.len() && a.iter().zip(b).all(|(x, y)| same(x, y))
        }
        (J::Object(a), J::Object(b)) => {
            a.len() == b.len() && a.iter().all(|(k, v)| b.get(k).is_some_and(|w| same(v, w)))
        }
        _ => expect == actual,
    }
}

// ---- the dispatch table -------------------------------------------------

fn call(env: &mut Env, step: &J, a: &J) -> Res {
    let op = step["op"]
        .as_str()
        .ok_or_else(|| runner("step without op".into()))?;
    let target = match step.get("on").and_then(J::as_str) {
        Some(name) => Some(
            env.vars
                .get(name)
                .cloned()
                .ok_or_else(|| runner(format!("unbound name {name}")))?,
        ),
        None => None,
    };
    let none = || Ok(Obj::Json(J::Null));
    let j = |v: J| Ok(Obj::Json(v));
    match (target, op) {
        (_, "equals") => {
            let other = arg_obj(env, a, "other")?;
            let t = env.vars.get(step["on"].as_str().unwrap_or("")).cloned();
            j(json!(t.is_some_and(|t| handles_equal(&t, &other))))
        }
        // Clock
        (Some(Obj::Clock), "now") => j(instant(env.clock.now())),
        (Some(Obj::Clock), "advance") => {
            env.clock.advance(ms(a, "ms")?);
            none()
        }
        (Some(Obj::Clock), "set") => {
            env.clock.set(time(&a["time"])?);
            none()
        }
        // Coordinate
        (Some(Obj::Coord), "namespace") => Ok(Obj::Ns(env.coord.namespace(s(a, "name")?)?)),
        (Some(Obj::Coord), "namespaces") => Ok(Obj::Map(
            env.coord
                .namespaces()?
                .into_iter()
                .map(|(k, v)| (k, Obj::Ns(v)))
                .collect(),
        )),
        (Some(Obj::Coord), "summarize") => j(summary(env.coord.summarize()?)),
        // Namespace
        (Some(Obj::Ns(ns)), op) => match op {
            "name" => j(json!(ns.name())),
            "destroy" => ns.destroy().map(|_| Obj::Json(J::Null)).map_err(Fail::from),
            "set_work_spec" => Ok(Obj::Spec(ns.set_work_spec(data(&a["data"])?)?)),
            "work_spec" => Ok(Obj::Spec(ns.work_spec(s(a, "name")?)?)),
            "destroy_work_spec" => {
                ns.destroy_work_spec(s(a, "name")?)?;
                none()
            }
            "work_spec_names" => j(json!(ns.work_spec_names()?)),
            "worker" => Ok(Obj::Worker(ns.worker(s(a, "name")?)?)),
            "workers" => Ok(Obj::Map(
                ns.workers()?
                    .into_iter()
                    .map(|(k, v)| (k, Obj::Worker(v)))
                    .collect(),
            )),
            "summarize" => j(summary(ns.summarize()?)),
            _ => Err(runner(format!("unknown namespace op {op}"))),
        },
        // WorkSpec
        (Some(Obj::Spec(sp)), op) => match op {
            "name" => j(json!(sp.name())),
            "data" => j(map_j(&sp.data()?)),
            "set_data" => {
                sp.set_data(data(&a["data"])?)?;
                none()
            }
            "meta" => j(spec_meta_j(
                &sp.meta(a["with_counts"].as_bool().unwrap_or(false))?,
            )),
            "set_meta" => {
                sp.set_meta(&spec_meta(&a["meta"])?)?;
                none()
            }
            "add_work_unit" => {
                let d = opt_data(&a["data"])?.unwrap_or_default();
                Ok(Obj::Unit(sp.add_work_unit(
                    s(a, "name")?,
                    d,
                    unit_meta(&a["meta"])?,
                )?))
            }
            "add_work_units" => {
                let items = a["items"]
                    .as_array()
                    .ok_or_else(|| runner("items".into()))?;
                let items = items.iter().map(add_item).collect::<Result<Vec<_>, _>>()?;
                j(json!(sp.add_work_units(items)?))
            }
            "work_unit" => Ok(Obj::Unit(sp.work_unit(s(a, "name")?)?)),
            "work_units" => {
                let units = sp.work_units(&query(&a["query"])?)?;
                Ok(Obj::Map(
                    units.into_iter().map(|(k, v)| (k, Obj::Unit(v))).collect(),
                ))
            }
            "count_work_unit_status" => {
                let counts = sp.count_work_unit_status()?;
                j(J::Object(
                    counts
                        .into_iter()
                        .map(|(k, v)| (k.to_string(), json!(v)))
                        .collect(),
                ))
            }
            "set_work_unit_priorities" => {
                sp.set_work_unit_priorities(&query(&a["query"])?, f(a, "priority")?)?;
                none()
            }
            "adjust_work_unit_priorities" => {
                sp.adjust_work_unit_priorities(&query(&a["query"])?, f(a, "adjustment")?)?;
                none()
            }
            "delete_work_units" => j(json!(sp.delete_work_units(&query(&a["query"])?)?)),
            "summarize" => j(summary(sp.summarize()?)),
            _ => Err(runner(format!("unknown work spec op {op}"))),
        },
        // WorkUnit
        (Some(Obj::Unit(u)), op) => match op {
            "name" => j(json!(u.name())),
            "work_spec" => Ok(Obj::Spec(u.work_spec().clone())),
            "data" => j(map_j(&u.data()?)),
            "status" => j(json!(u.status()?.as_str())),
            "meta" => j(unit_meta_j(&u.meta()?)),
            "set_meta" => {
                u.set_meta(unit_meta(&a["meta"])?)?;
                none()
            }
            "priority" => j(json!(u.priority()?)),
            "set_priority" => {
                u.set_priority(f(a, "priority")?)?;
                none()
            }
            "active_attempt" => Ok(u.active_attempt()?.map_or(Obj::Json(J::Null), Obj::Attempt)),
            "clear_active_attempt" => {
                u.clear_active_attempt()?;
                none()
            }
            "attempts" => Ok(attempts(u.attempts()?)),
            "num_attempts" => j(json!(u.num_attempts()?)),
            _ => Err(runner(format!("unknown work unit op {op}"))),
        },
        // Attempt
        (Some(Obj::Attempt(at)), op) => match op {
            "work_unit" => Ok(Obj::Unit(at.work_unit().clone())),
            "worker" => Ok(Obj::Worker(at.worker().clone())),
            "status" => j(json!(at.status()?.as_str())),
            "data" => j(map_j(&at.data()?)),
            "start_time" => j(instant(at.start_time()?)),
            "end_time" => j(at.end_time()?.map_or(J::Null, instant)),
            "expiration_time" => j(instant(at.expiration_time()?)),
            "renew" => {
                at.renew(ms(a, "duration_ms")?, opt_data(&a["data"])?)?;
                none()
            }
            "expire" => {
                at.expire(opt_data(&a["data"])?)?;
                none()
            }
            "finish" => {
                at.finish(opt_data(&a["data"])?)?;
                none()
            }
            "fail" => {
                at.fail(opt_data(&a["data"])?)?;
                none()
            }
            "retry" => {
                let delay = if a["delay_ms"].is_null() {
                    TimeDelta::zero()
                } else {
                    ms(a, "delay_ms")?
                };
                at.retry(opt_data(&a["data"])?, delay)?;
                none()
            }
            _ => Err(runner(format!("unknown attempt op {op}"))),
        },
        // Worker
        (Some(Obj::Worker(w)), op) => match op {
            "name" => j(json!(w.name())),
            "parent" => Ok(w.parent()?.map_or(Obj::Json(J::Null), Obj::Worker)),
            "set_parent" => {
                let parent = match &a["parent"] {
                    J::Null => None,
                    _ => match arg_obj(env, a, "parent")? {
                        Obj::Worker(p) => Some(p),
                        _ => return Err(runner("parent is not a worker".into())),
                    },
                };
                w.set_parent(parent.as_ref())?;
                none()
            }
            "children" => Ok(Obj::List(
                w.children()?.into_iter().map(Obj::Worker).collect(),
            )),
            "active" => j(json!(w.active()?)),
            "deactivate" => {
                w.deactivate()?;
                none()
            }
            "mode" => j(json!(w.mode()?)),
            "data" => j(map_j(&w.data()?)),
            "expiration" => j(instant(w.expiration()?)),
            "last_update" => j(instant(w.last_update()?)),
            "update" => {
                w.update(
                    data(&a["data"])?,
                    time(&a["now"])?,
                    time(&a["expiration"])?,
                    s(a, "mode")?,
                )?;
                none()
            }
            "request_attempts" => Ok(attempts(w.request_attempts(&request(&a["request"])?)?)),
            "make_attempt" => {
                let Obj::Unit(u) = arg_obj(env, a, "work_unit")? else {
                    return Err(runner("work_unit is not a unit".into()));
                };
                let lifetime = if a["lifetime_ms"].is_null() {
                    TimeDelta::zero()
                } else {
                    ms(a, "lifetime_ms")?
                };
                Ok(Obj::Attempt(w.make_attempt(&u, lifetime)?))
            }
            "active_attempts" => Ok(attempts(w.active_attempts()?)),
            "all_attempts" => Ok(attempts(w.all_attempts()?)),
            "child_attempts" => Ok(attempts(w.child_attempts()?)),
            _ => Err(runner(format!("unknown worker op {op}"))),
        },
        // Free functions
        (None, "extract_work_unit_output") => {
            let items = extract_work_unit_output(&value(&a["output"])?, time(&a["now"])?);
            j(J::Object(
                items.into_iter().map(|(k, v)| (k, item_j(&v))).collect(),
            ))
        }
        (None, "extract_add_work_unit_item") => j(item_j(&extract_add_work_unit_item(
            &value(&a["obj"])?,
            time(&a["now"])?,
        )?)),
        (None, "extract_work_spec_meta") => {
            let (name, meta) = extract_work_spec_meta(&data(&a["data"])?)?;
            j(json!({"name": name, "meta": spec_meta_j(&meta)}))
        }
        (None, "limit_metas_to_names") => j(json!(limit_metas_to_names(
            metas(&a["metas"])?,
            &strings(&a["names"])?
        )
        .into_keys()
        .collect::<Vec<_>>())),
        (None, "limit_metas_to_runtimes") => j(json!(limit_metas_to_runtimes(
            metas(&a["metas"])?,
            &strings(&a["runtimes"])?
        )
        .into_keys()
        .collect::<Vec<_>>())),
        (None, "simplified_scheduler") => {
            let gb = a["available_gb"].as_f64().unwrap_or(0.0);
            j(json!(simplified_scheduler(
                &metas(&a["metas"])?,
                time(&a["now"])?,
                gb,
                a["seed"].as_u64()
            )?))
        }
        (None, "work_unit_status_to_text") => {
            j(json!(WorkUnitStatus::text_of_code(i(a, "code")?)?))
        }
        (None, "work_unit_status_to_json") => j(json!(to_json_text(WorkUnitStatus::from_code(
            i(a, "code")?
        )?))),
        (None, "work_unit_status_from_text") => {
            j(json!(s(a, "text")?.parse::<WorkUnitStatus>()?.code()))
        }
        (None, "work_unit_status_from_json") => j(json!(from_json_text::<WorkUnitStatus>(s(
            a, "json"
        )?)?
        .code())),
        (None, "attempt_status_to_text") => j(json!(AttemptStatus::text_of_code(i(a, "code")?)?)),
        (None, "attempt_status_to_json") => j(json!(to_json_text(AttemptStatus::from_code(i(
            a, "code"
        )?)?))),
        (None, "attempt_status_from_text") => {
            j(json!(s(a, "text")?.parse::<AttemptStatus>()?.code()))
        }
        (None, "attempt_status_from_json") => {
            j(json!(from_json_text::<AttemptStatus>(s(a, "json")?)?.code()))
        }
        (_, op) => Err(runner(format!("operation {op} not valid on this target"))),
    }
}

fn to_json_text<T: serde::Serialize>(status: T) -> String {
    serde_json::to_string(&status).unwrap_or_default()
}

fn from_json_text<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, Fail> {
    serde_json::from_str(text).map_err(|e| {
        // serde_json appends " at line L column C"; the status error is the message.
        let msg = e.to_string();
        let msg = msg.split(" at line").next().unwrap_or(&msg).to_owned();
        Fail {
            code: "InvalidStatus".into(),
            message: msg,
        }
    })
}

fn handles_equal(a: &Obj, b: &Obj) -> bool {
    match (a, b) {
        (Obj::Ns(x), Obj::Ns(y)) => x == y,
        (Obj::Spec(x), Obj::Spec(y)) => x == y,
        (Obj::Unit(x), Obj::Unit(y)) => x == y,
        (Obj::Worker(x), Obj::Worker(y)) => x == y,
        (Obj::Attempt(x), Obj::Attempt(y)) => x == y,
        _ => false,
    }
}

fn attempts(list: Vec<Attempt>) -> Obj {
    Obj::List(list.into_iter().map(Obj::Attempt).collect())
}

// ---- canonical forms ----------------------------------------------------

fn canonical(obj: &Obj) -> J {
    match obj {
        Obj::Json(v) => v.clone(),
        Obj::Coord => json!("coordinate"),
        Obj::Clock => json!("clock"),
        Obj::Ns(n) => json!(format!("ns:{}", n.name())),
        Obj::Spec(s) => json!(format!("spec:{}", s.name())),
        Obj::Unit(u) => json!(format!("unit:{}/{}", u.work_spec().name(), u.name())),
        Obj::Worker(w) => json!(format!("worker:{}", w.name())),
        Obj::Attempt(a) => json!(format!(
            "attempt:{}/{}@{}",
            a.work_unit().work_spec().name(),
            a.work_unit().name(),
            a.worker().name()
        )),
        Obj::List(items) => J::Array(items.iter().map(canonical).collect()),
        Obj::Map(m) => J::Object(m.iter().map(|(k, v)| (k.clone(), canonical(v))).collect()),
    }
}

fn instant(t: DateTime<Utc>) -> J {
    json!(t.to_rfc3339_opts(SecondsFormat::Millis, true))
}

fn summary(mut records: Summary) -> J {
    records.sort();
    J::Array(
        records
            .iter()
            .map(|r| json!({"namespace": r.namespace, "work_spec": r.work_spec, "status": r.status.as_str(), "count": r.count}))
            .collect(),
    )
}

fn value_j(v: &Value) -> J {
    match v {
        Value::Null => J::Null,
        Value::Bool(b) => json!(b),
        Value::Int(i) => json!(i),
        Value::Float(f) => json!(f),
        Value::String(s) => json!(s),
        Value::Bytes(b) => json!({"$bytes": base64::engine::general_purpose::STANDARD.encode(b)}),
        Value::List(items) => J::Array(items.iter().map(value_j).collect()),
        Value::Map(m) => map_j(m),
    }
}

fn map_j(m: &Map) -> J {
    J::Object(m.iter().map(|(k, v)| (k.clone(), value_j(v))).collect())
}

fn opt_instant(t: Option<DateTime<Utc>>) -> J {
    t.map_or(J::Null, instant)
}

fn spec_meta_j(m: &WorkSpecMeta) -> J {
    json!({
        "priority": m.priority, "weight": m.weight, "paused": m.paused,
        "continuous": m.continuous, "can_be_continuous": m.can_be_continuous,
        "min_memory_gb": m.min_memory_gb, "interval": m.interval.num_milliseconds(),
        "next_continuous": opt_instant(m.next_continuous), "max_running": m.max_running,
        "max_attempts_returned": m.max_attempts_returned, "max_retries": m.max_retries,
        "next_work_spec_name": m.next_work_spec_name, "available_count": m.available_count,
        "pending_count": m.pending_count, "runtime": m.runtime,
    })
}

fn unit_meta_j(m: &WorkUnitMeta) -> J {
    json!({"priority": m.priority, "not_before": opt_instant(m.not_before)})
}

fn item_j(item: &AddWorkUnitItem) -> J {
    json!({"key": item.key, "data": map_j(&item.data), "meta": unit_meta_j(&item.meta)})
}

// ---- arguments ----------------------------------------------------------

fn arg_obj(env: &Env, a: &J, key: &str) -> Res {
    let name = a[key]["$ref"]
        .as_str()
        .ok_or_else(|| runner(format!("{key} is not a $ref")))?;
    env.vars
        .get(name)
        .cloned()
        .ok_or_else(|| runner(format!("unbound name {name}")))
}

fn s<'a>(a: &'a J, key: &str) -> Result<&'a str, Fail> {
    a[key]
        .as_str()
        .ok_or_else(|| runner(format!("argument {key} must be a string")))
}

fn f(a: &J, key: &str) -> Result<f64, Fail> {
    a[key]
        .as_f64()
        .ok_or_else(|| runner(format!("argument {key} must be a number")))
}

fn i(a: &J, key: &str) -> Result<i64, Fail> {
    a[key]
        .as_i64()
        .ok_or_else(|| runner(format!("argument {key} must be an integer")))
}

fn ms(a: &J, key: &str) -> Result<TimeDelta, Fail> {
    i(a, key).map(TimeDelta::milliseconds)
}

fn time(v: &J) -> Result<DateTime<Utc>, Fail> {
    let text = v
        .as_str()
        .ok_or_else(|| runner(format!("instant expected, got {v}")))?;
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| runner(format!("bad instant {text}: {e}")))
}

fn opt_time(v: &J) -> Result<Option<DateTime<Utc>>, Fail> {
    if v.is_null() {
        Ok(None)
    } else {
        time(v).map(Some)
    }
}

fn strings(v: &J) -> Result<Vec<String>, Fail> {
    match v {
        J::Null => Ok(Vec::new()),
        J::Array(items) => items
            .iter()
            .map(|x| {
                x.as_str()
                    .map(str::to_owned)
                    .ok_or_else(|| runner(format!("string expected in {v}")))
            })
            .collect(),
        _ => Err(runner(format!("list of strings expected, got {v}"))),
    }
}

fn value(v: &J) -> Result<Value, Fail> {
    Ok(match v {
        J::Null => Value::Null,
        J::Bool(b) => Value::Bool(*b),
        J::Number(n) => match n.as_i64() {
            Some(i) => Value::Int(i),
            None => Value::Float(n.as_f64().unwrap_or(f64::NAN)),
        },
        J::String(s) => Value::String(s.clone()),
        J::Array(items) => Value::List(items.iter().map(value).collect::<Result<_, _>>()?),
        J::Object(o) => {
            if let (1, Some(b)) = (o.len(), o.get("$bytes").and_then(J::as_str)) {
                let bytes = base64::engine::general_purpose::STANDARD
                    .decode(b)
                    .map_err(|e| runner(format!("bad base64: {e}")))?;
                return Ok(Value::Bytes(bytes));
            }
            if let (1, Some(t)) = (o.len(), o.get("$tuple")) {
                return value(t);
            }
            Value::Map(
                o.iter()
                    .map(|(k, v)| Ok((k.clone(), value(v)?)))
                    .collect::<Result<_, Fail>>()?,
            )
        }
    })
}

fn data(v: &J) -> Result<Map, Fail> {
    match value(v)? {
        Value::Map(m) => Ok(m),
        other => Err(runner(format!("data map expected, got {other:?}"))),
    }
}

fn opt_data(v: &J) -> Result<Option<Map>, Fail> {
    if v.is_null() {
        Ok(None)
    } else {
        data(v).map(Some)
    }
}

fn spec_meta(v: &J) -> Result<WorkSpecMeta, Fail> {
    let int = |k: &str| v[k].as_i64().unwrap_or(0);
    let text = |k: &str| v[k].as_str().unwrap_or("").to_owned();
    let flag = |k: &str| v[k].as_bool().unwrap_or(false);
    Ok(WorkSpecMeta {
        priority: int("priority"),
        weight: int("weight"),
        paused: flag("paused"),
        continuous: flag("continuous"),
        can_be_continuous: flag("can_be_continuous"),
        min_memory_gb: v["min_memory_gb"].as_f64().unwrap_or(0.0),
        interval: TimeDelta::milliseconds(int("interval")),
        next_continuous: opt_time(&v["next_continuous"])?,
        max_running: int("max_running"),
        max_attempts_returned: int("max_attempts_returned"),
        max_retries: int("max_retries"),
        next_work_spec_name: text("next_work_spec_name"),
        available_count: int("available_count"),
        pending_count: int("pending_count"),
        runtime: text("runtime"),
    })
}

fn metas(v: &J) -> Result<Metas, Fail> {
    let o = v
        .as_object()
        .ok_or_else(|| runner("metas must be an object".into()))?;
    o.iter()
        .map(|(k, m)| Ok((k.clone(), spec_meta(m)?)))
        .collect()
}

fn unit_meta(v: &J) -> Result<WorkUnitMeta, Fail> {
    Ok(WorkUnitMeta {
        priority: v["priority"].as_f64().unwrap_or(0.0),
        not_before: opt_time(&v["not_before"])?,
    })
}

fn add_item(v: &J) -> Result<AddWorkUnitItem, Fail> {
    match v {
        J::String(name) => Ok(AddWorkUnitItem::named(name.clone())),
        J::Array(parts) if !parts.is_empty() => Ok(AddWorkUnitItem {
            key: parts[0]
                .as_str()
                .ok_or_else(|| runner(format!("bad item name in {v}")))?
                .to_owned(),
            data: match parts.get(1) {
                Some(d) if !d.is_null() => data(d)?,
                _ => Map::new(),
            },
            meta: unit_meta(parts.get(2).unwrap_or(&J::Null))?,
        }),
        _ => Err(runner(format!("bad add_work_units item {v}"))),
    }
}

fn query(v: &J) -> Result<WorkUnitQuery, Fail> {
    let statuses = match &v["statuses"] {
        J::Null => None,
        list => Some(
            strings(list)?
                .iter()
                .map(|t| t.parse::<WorkUnitStatus>().map_err(Fail::from))
                .collect::<Result<_, _>>()?,
        ),
    };
    Ok(WorkUnitQuery {
        names: if v["names"].is_null() {
            None
        } else {
            Some(strings(&v["names"])?)
        },
        statuses,
        previous_name: v["previous_name"].as_str().unwrap_or("").to_owned(),
        limit: v["limit"].as_i64().unwrap_or(0),
    })
}

fn request(v: &J) -> Result<AttemptRequest, Fail> {
    Ok(AttemptRequest {
        available_gb: v["available_gb"].as_f64().unwrap_or(0.0),
        lifetime: TimeDelta::milliseconds(v["lifetime_ms"].as_i64().unwrap_or(0)),
        number_of_work_units: v["number_of_work_units"].as_i64().unwrap_or(0),
        work_specs: strings(&v["work_specs"])?,
        runtimes: strings(&v["runtimes"])?,
    })
}
