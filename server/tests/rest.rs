//! Go coordinate's REST protocol, tested from REST-PROTOCOL.md: the root
//! document and links, name encoding, media types, JSON keys, chunked
//! bodies, attempt URLs, queries, CBOR data, error codes and statuses.

mod common;

use common::{delete, get, raw, send, Framing, V1_JSON};
use serde_json::{json, Value as J};

fn spec_body(data: J) -> J {
    // The Go client serialises whole structs: irrelevant keys ride along.
    json!({"url": "", "name": "", "data": data, "summary_url": "", "work_units_url": "", "meta": ""})
}

fn unit_body(name: &str, data: J, meta: J) -> J {
    json!({"url": "", "name": name, "data": data, "meta": meta, "status": "any",
           "work_spec_url": "", "attempts_url": ""})
}

fn error_of(a: &common::Answer) -> (String, Option<String>) {
    assert!(
        a.header("content-type").unwrap_or("").starts_with(V1_JSON),
        "error bodies are typed: {:?}",
        a.headers
    );
    let j = a.json();
    assert!(j["message"].is_string(), "an error has a message: {j}");
    (
        j["error"].as_str().unwrap_or_default().to_owned(),
        j["value"].as_str().map(str::to_owned),
    )
}

/// A spec `name` in namespace `ns` with units `units` (no data).
fn setup(addr: std::net::SocketAddr, ns: &str, spec: &str, units: &[&str]) {
    let a = send(
        addr,
        "POST",
        &format!("/namespace/{ns}/work_spec"),
        &spec_body(json!({"name": spec})),
    );
    assert_eq!(a.status, 201, "{}", a.text());
    for u in units {
        let a = send(
            addr,
            "POST",
            &format!("/namespace/{ns}/work_spec/{spec}/work_unit"),
            &unit_body(u, json!({}), J::Null),
        );
        assert_eq!(a.status, 201, "{}", a.text());
    }
}

#[test]
fn root_document_and_namespaces() {
    let d = common::daemon(false);
    let a = get(d.addr(), "/");
    assert_eq!(a.status, 200);
    assert!(a.header("content-type").unwrap().starts_with(V1_JSON));
    assert_eq!(
        a.json(),
        json!({"url": "", "summary_url": "/summary", "namespaces_url": "/namespace",
               "namespace_url": "/namespace/{namespace}"})
    );
    // A clean server's summary is empty.
    let s = get(d.addr(), "/summary").json();
    assert!(s.is_null() || s == json!([]), "{s}");
    // GET creates the namespace, which then is listed.
    let ns = get(d.addr(), "/namespace/TestNs").json();
    assert_eq!(
        ns,
        json!({"url": "/namespace/TestNs", "name": "TestNs",
               "summary_url": "/namespace/TestNs/summary",
               "work_specs_url": "/namespace/TestNs/work_spec",
               "work_spec_url": "/namespace/TestNs/work_spec/{spec}",
               "workers_url": "/namespace/TestNs/worker",
               "worker_url": "/namespace/TestNs/worker/{worker}"})
    );
    let list = get(d.addr(), "/namespace").json();
    let names: Vec<&str> = list["namespaces"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["TestNs"]);
    assert_eq!(list["namespaces"][0]["url"], "/namespace/TestNs");
    // DELETE destroys it (204); a spec lookup then fails as for an empty namespace.
    setup(d.addr(), "TestNs", "s", &["u"]);
    assert_eq!(delete(d.addr(), "/namespace/TestNs").status, 204);
    let a = get(d.addr(), "/namespace/TestNs/work_spec/s");
    assert_eq!(a.status, 404);
    assert_eq!(error_of(&a), ("ErrNoSuchWorkSpec".into(), Some("s".into())));
    // POST /namespace creates one too.
    let a = send(d.addr(), "POST", "/namespace", &json!({"name": "posted"}));
    assert_eq!(a.status, 201);
    assert_eq!(a.header("location"), Some("/namespace/posted"));
    assert_eq!(a.json()["name"], "posted");
}

#[test]
fn names_are_encoded_and_decoded() {
    let d = common::daemon(false);
    for (name, segment) in [
        ("", "-"),
        ("-", "-LQ"),
        ("\u{0}", "-AA"),
        ("a b/ü", "-YSBiL8O8"),
        ("\u{1}\u{2}\u{3}\u{4}", "-AQIDBA"),
        ("plain-name_1.x:y", "plain-name_1.x:y"),
    ] {
        let a = get(d.addr(), &format!("/namespace/{segment}"));
        assert_eq!(a.status, 200, "{segment}: {}", a.text());
        let j = a.json();
        assert_eq!(j["name"], name, "{segment}");
        assert_eq!(j["url"], format!("/namespace/{segment}"), "{name:?}");
    }
    // Percent-encoded segments (RFC 6570 expansion) decode first.
    let a = get(d.addr(), "/namespace/a%3Ab");
    assert_eq!(a.json()["name"], "a:b");
    // Invalid base64: 400 with an `error` body.
    let a = get(d.addr(), "/namespace/-!!");
    assert_eq!(a.status, 400);
    assert_eq!(error_of(&a).0, "error");
    // Unit and worker names in links are encoded the same way.
    setup(d.addr(), "-", "spec one", &[]);
    let a = send(
        d.addr(),
        "POST",
        "/namespace/-/work_spec/-c3BlYyBvbmU/work_unit",
        &unit_body("a b", json!({}), J::Null),
    );
    assert_eq!(a.status, 201, "{}", a.text());
    assert_eq!(
        a.header("location"),
        Some("/namespace/-/work_spec/-c3BlYyBvbmU/work_unit/-YSBi")
    );
    let w = get(d.addr(), "/namespace/-/worker/-d29ya2VyIDE").json();
    assert_eq!(w["name"], "worker 1");
    assert_eq!(w["url"], "/namespace/-/worker/-d29ya2VyIDE");
}

#[test]
fn work_specs() {
    let d = common::daemon(false);
    let addr = d.addr();
    // The Go client's bodies are chunked; a Content-Length body works too.
    let body = serde_json::to_vec(&spec_body(json!({"name": "s", "then": "t", "x": 2.5}))).unwrap();
    let a = raw(
        addr,
        "POST",
        "/namespace/n/work_spec",
        &[("Content-Type", V1_JSON), ("Accept", V1_JSON)],
        Some((&body, Framing::Length)),
    );
    assert_eq!(a.status, 201, "{}", a.text());
    assert_eq!(a.header("location"), Some("/namespace/n/work_spec/s"));
    assert_eq!(
        a.json(),
        json!({"url": "/namespace/n/work_spec/s", "name": "s"})
    );
    let spec = get(addr, "/namespace/n/work_spec/s").json();
    let base = "/namespace/n/work_spec/s";
    assert_eq!(spec["data"], json!({"name": "s", "then": "t", "x": 2.5}));
    assert_eq!(spec["meta"], format!("{base}/meta{{?counts}}"));
    assert_eq!(spec["work_unit_url"], format!("{base}/work_unit/{{unit}}"));
    assert_eq!(spec["work_units_url"], format!("{base}/work_unit"));
    assert_eq!(
        spec["work_unit_query_url"],
        format!("{base}/work_unit{{?name*,status*,previous,limit}}")
    );
    assert_eq!(
        spec["work_unit_change_url"],
        format!("{base}/change{{?name*,status*,previous,limit}}")
    );
    assert_eq!(
        spec["work_unit_adjust_url"],
        format!("{base}/adjust{{?name*,status*,previous,limit}}")
    );
    assert_eq!(spec["work_unit_counts_url"], format!("{base}/counts"));
    assert_eq!(spec["summary_url"], format!("{base}/summary"));
    let list = get(addr, "/namespace/n/work_spec").json();
    assert_eq!(list, json!({"work_specs": [{"url": base, "name": "s"}]}));

    // Meta: GET with and without counts; PUT of the full structure.
    let meta = get(addr, &format!("{base}/meta?counts=true")).json();
    assert_eq!(meta["weight"], 20);
    assert_eq!(meta["next_work_spec_name"], "t");
    assert_eq!(meta["interval"], 0);
    assert_eq!(meta["next_continuous"], J::Null);
    assert!(
        meta.get("min_memory_gb").is_none(),
        "left out when 0: {meta}"
    );
    let mut new_meta = meta.clone();
    new_meta["priority"] = json!(7);
    new_meta["max_running"] = json!(3);
    new_meta["interval"] = json!(60_000_000_000i64);
    new_meta["next_continuous"] = json!("0001-01-01T00:00:00Z");
    assert_eq!(
        send(addr, "PUT", &format!("{base}/meta"), &new_meta).status,
        204
    );
    let meta = get(addr, &format!("{base}/meta?counts=f")).json();
    assert_eq!(meta["priority"], 7);
    assert_eq!(meta["max_running"], 3);
    assert_eq!(meta["interval"], 60_000_000_000i64);
    assert_eq!(meta["next_continuous"], J::Null);

    // PUT data: replaces; null data changes nothing; a new name is ErrChangedName.
    assert_eq!(
        send(addr, "PUT", base, &spec_body(json!({"name": "s", "y": 1}))).status,
        204
    );
    assert_eq!(send(addr, "PUT", base, &spec_body(J::Null)).status, 204);
    assert_eq!(get(addr, base).json()["data"], json!({"name": "s", "y": 1}));
    let a = send(addr, "PUT", base, &spec_body(json!({"name": "other"})));
    assert_eq!(error_of(&a).0, "ErrChangedName");
    let a = send(addr, "PUT", base, &spec_body(json!({"y": 1})));
    assert_eq!(error_of(&a).0, "ErrNoWorkSpecName");

    // POST errors: missing data, no name, a name that is not a string.
    let a = send(addr, "POST", "/namespace/n/work_spec", &spec_body(J::Null));
    assert_eq!(a.status, 400);
    assert_eq!(a.json()["message"], "Missing data");
    let a = send(
        addr,
        "POST",
        "/namespace/n/work_spec",
        &spec_body(json!({})),
    );
    assert_eq!(a.status, 400);
    assert_eq!(error_of(&a).0, "ErrNoWorkSpecName");
    let a = send(
        addr,
        "POST",
        "/namespace/n/work_spec",
        &spec_body(json!({"name": 4})),
    );
    assert_eq!(a.status, 400);
    assert_eq!(error_of(&a).0, "ErrBadWorkSpecName");

    // A missing spec: 404 ErrNoSuchWorkSpec with the decoded name as value.
    let a = get(addr, "/namespace/n/work_spec/-bm8gc3BlYw");
    assert_eq!(a.status, 404);
    assert_eq!(
        error_of(&a),
        ("ErrNoSuchWorkSpec".into(), Some("no spec".into()))
    );
    // DELETE: 204, then gone.
    assert_eq!(delete(addr, base).status, 204);
    assert_eq!(get(addr, base).status, 404);
    assert_eq!(error_of(&delete(addr, base)).0, "ErrNoSuchWorkSpec");
}

#[test]
fn work_units_queries_counts_and_priorities() {
    let d = common::daemon(false);
    let addr = d.addr();
    let names = [
        "available",
        "delayed",
        "expired",
        "failed",
        "finished",
        "pending",
        "retryable",
    ];
    setup(addr, "q", "s", &names);
    let base = "/namespace/q/work_spec/s";
    let unit = get(addr, &format!("{base}/work_unit/available")).json();
    assert_eq!(
        unit,
        json!({"url": format!("{base}/work_unit/available"), "name": "available", "data": {},
               "meta": {"priority": 0.0, "not_before": null}, "status": "available",
               "work_spec_url": base,
               "attempts_url": format!("{base}/work_unit/available/attempts")})
    );
    // Paging with limit and previous (recorded example, REST-PROTOCOL.md §10).
    let page = |q: &str| -> Vec<String> {
        let j = get(addr, &format!("{base}/work_unit{q}")).json();
        let mut v: Vec<String> = j["work_units"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|u| u["name"].as_str().unwrap().to_owned())
                    .collect()
            })
            .unwrap_or_default();
        v.sort();
        v
    };
    assert_eq!(
        page("?limit=4"),
        ["available", "delayed", "expired", "failed"]
    );
    assert_eq!(
        page("?previous=failed&limit=4"),
        ["finished", "pending", "retryable"]
    );
    assert!(page("?previous=retryable&limit=4").is_empty());
    assert_eq!(page("").len(), 7);
    assert_eq!(
        page("?name=pending&name=nope&name=failed"),
        ["failed", "pending"]
    );
    assert_eq!(page("?status=available&limit=2"), ["available", "delayed"]);
    // A bad status or limit is an `error`.
    assert_eq!(
        error_of(&get(addr, &format!("{base}/work_unit?status=seventeen"))).0,
        "error"
    );
    assert_eq!(
        error_of(&get(addr, &format!("{base}/work_unit?limit=x"))).0,
        "error"
    );

    // Raw names with reserved characters in `name`, name-encoded `previous`.
    setup(addr, "q2", "s", &["a b&c=d/é", "-dash", "plain"]);
    let b2 = "/namespace/q2/work_spec/s";
    let j = get(
        addr,
        &format!("{b2}/work_unit?name=plain&name=-dash&name=a%20b%26c%3Dd%2F%C3%A9"),
    )
    .json();
    assert_eq!(j["work_units"].as_array().unwrap().len(), 3);
    let j = get(addr, &format!("{b2}/work_unit?previous=-YSBiJmM9ZC_DqQ")).json();
    let after: Vec<&str> = j["work_units"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["name"].as_str().unwrap())
        .collect();
    assert_eq!(after, ["plain"], "strictly after 'a b&c=d/é' bytewise");

    // Change and adjust priorities.
    let prio = |p: f64| unit_body("", J::Null, json!({"priority": p, "not_before": null}));
    assert_eq!(
        send(
            addr,
            "POST",
            &format!("{base}/change?name=failed"),
            &prio(10.0)
        )
        .status,
        204
    );
    assert_eq!(
        send(
            addr,
            "POST",
            &format!("{base}/adjust?name=failed&name=pending"),
            &prio(2.5)
        )
        .status,
        204
    );
    assert_eq!(
        send(
            addr,
            "POST",
            &format!("{base}/change"),
            &unit_body("", J::Null, J::Null)
        )
        .status,
        204
    );
    let p =
        |n: &str| get(addr, &format!("{base}/work_unit/{n}")).json()["meta"]["priority"].clone();
    assert_eq!(p("failed"), json!(12.5));
    assert_eq!(p("pending"), json!(2.5));
    assert_eq!(p("available"), json!(0.0));

    // PUT meta sets priority and not_before: the unit is delayed.
    let a = send(
        addr,
        "PUT",
        &format!("{base}/work_unit/delayed"),
        &unit_body(
            "",
            J::Null,
            json!({"priority": 1.0, "not_before": "2999-01-01T00:00:00.5Z"}),
        ),
    );
    assert_eq!(a.status, 204);
    let u = get(addr, &format!("{base}/work_unit/delayed")).json();
    assert_eq!(u["status"], "delayed");
    assert_eq!(u["meta"]["not_before"], "2999-01-01T00:00:00.500Z");

    // Counts list only statuses that occur.
    let counts = get(addr, &format!("{base}/counts")).json();
    assert_eq!(counts, json!({"available": 6, "delayed": 1}));
    // Summary records use Go's capitalised keys.
    let s = get(addr, &format!("{base}/summary")).json();
    assert!(s
        .as_array()
        .unwrap()
        .contains(&json!({"Namespace": "q", "WorkSpec": "s", "Status": "delayed", "Count": 1})));

    // A missing unit: ErrNoSuchWorkUnit with the name as value.
    let a = get(addr, &format!("{base}/work_unit/-bm8gdW5pdA"));
    assert_eq!(a.status, 404);
    assert_eq!(
        error_of(&a),
        ("ErrNoSuchWorkUnit".into(), Some("no unit".into()))
    );
    // DELETE with a query: 200 and the capitalised `Deleted` count.
    let a = delete(
        addr,
        &format!("{base}/work_unit?name=failed&name=pending&name=nope"),
    );
    assert_eq!(a.status, 200);
    assert_eq!(a.json(), json!({"Deleted": 2}));
    let a = delete(addr, &format!("{base}/work_unit"));
    assert_eq!(a.json(), json!({"Deleted": 5}));
    assert!(page("").is_empty());
}

#[test]
fn attempts_workers_and_their_urls() {
    let d = common::daemon(true);
    let addr = d.addr();
    setup(addr, "t", "spec", &["a", "b"]);
    let base = "/namespace/t/work_spec/spec";
    // The unit's data is what a fresh attempt reports.
    let a = send(
        addr,
        "POST",
        &format!("{base}/work_unit"),
        &unit_body("a", json!({"from": "wu"}), J::Null),
    );
    assert_eq!(a.status, 201);
    let worker = get(addr, "/namespace/t/worker/w").json();
    assert_eq!(worker["active"], true);
    assert_eq!(worker["mode"], "");
    assert_eq!(worker["data"], J::Null);
    assert_eq!(worker["child_urls"], json!([]));
    assert!(worker.get("parent").is_none());
    assert_eq!(
        worker["request_attempts_url"],
        "/namespace/t/worker/w/request_attempts"
    );
    let req = json!({"available_gb": 0.0, "lifetime": 0, "number_of_work_units": 10,
                     "work_specs": ["spec"], "runtimes": null});
    let r = send(addr, "POST", "/namespace/t/worker/w/request_attempts", &req);
    assert_eq!(r.status, 200, "{}", r.text());
    let r = r.json();
    assert_eq!(r["work_spec_url"], base);
    let attempts = r["attempts"].as_array().unwrap();
    assert_eq!(attempts.len(), 2);
    // Scheduler order: priority, then name.
    assert_eq!(attempts[0]["work_unit_url"], format!("{base}/work_unit/a"));
    assert_eq!(attempts[1]["work_unit_url"], format!("{base}/work_unit/b"));
    let at = &attempts[0];
    assert_eq!(at["status"], "pending");
    assert_eq!(at["data"], json!({"from": "wu"}));
    assert_eq!(at["worker_url"], "/namespace/t/worker/w");
    assert!(at.get("end_time").is_none() || at["end_time"].is_null());
    let url = at["url"].as_str().unwrap().to_owned();
    assert!(
        url.starts_with(&format!("{base}/work_unit/a/attempt/w/")),
        "{url}"
    );
    assert!(!url.contains('{'));
    for action in ["renew", "expire", "finish", "fail", "retry"] {
        assert_eq!(at[format!("{action}_url")], format!("{url}/{action}"));
    }
    // The same attempt has the same URL everywhere.
    let unit = get(addr, &format!("{base}/work_unit/a")).json();
    assert_eq!(unit["active_attempt_url"], url.as_str());
    assert_eq!(unit["status"], "pending");
    assert_eq!(get(addr, &url).json()["url"], url.as_str());
    let list = get(addr, &format!("{base}/work_unit/a/attempts")).json();
    assert_eq!(list["attempts"][0]["url"], url.as_str());
    assert_eq!(list["attempts"][0]["start_time"], at["start_time"]);
    assert_eq!(
        get(addr, &format!("{base}/work_unit/a/num-attempts")).json(),
        json!(1)
    );
    let active = get(addr, "/namespace/t/worker/w/active_attempts").json();
    assert_eq!(active["attempts"].as_array().unwrap().len(), 2);

    // Renew with data, then finish with none: data stays the renewed data.
    let renew =
        json!({"data": {"from": "renew"}, "extend_duration": 300_000_000_000i64, "delay": 0});
    assert_eq!(
        send(addr, "POST", &format!("{url}/renew"), &renew).status,
        204
    );
    assert_eq!(
        send(
            addr,
            "POST",
            &format!("{url}/finish"),
            &json!({"extend_duration": 0, "delay": 0})
        )
        .status,
        204
    );
    let done = get(addr, &url).json();
    assert_eq!(done["status"], "finished");
    assert_eq!(done["data"], json!({"from": "renew"}));
    assert!(done["end_time"].is_string());
    // A finished attempt is still linked as active.
    assert_eq!(
        get(addr, &format!("{base}/work_unit/a")).json()["active_attempt_url"],
        url.as_str()
    );
    // Finishing again: ErrNotPending.
    let again = send(addr, "POST", &format!("{url}/finish"), &json!({}));
    assert_eq!(error_of(&again).0, "ErrNotPending");
    // Clearing the active attempt: the unit is available again, with its own data.
    let clear =
        json!({"url": "", "name": "", "meta": null, "status": "any", "active_attempt_url": "-"});
    assert_eq!(
        send(addr, "PUT", &format!("{base}/work_unit/a"), &clear).status,
        204
    );
    let unit = get(addr, &format!("{base}/work_unit/a")).json();
    assert!(unit.get("active_attempt_url").is_none(), "{unit}");
    assert_eq!(unit["status"], "available");
    assert_eq!(unit["data"], json!({"from": "wu"}));

    // An attempt that does not exist on an existing unit: 404 "no such attempt".
    let a = get(addr, &format!("{base}/work_unit/a/attempt/w/999999"));
    assert_eq!(a.status, 404);
    assert_eq!(a.json()["message"], "no such attempt");
    // make_attempt: 200 with a full attempt, unique URL.
    let m = send(
        addr,
        "POST",
        "/namespace/t/worker/w/make_attempt",
        &json!({"work_spec": "spec", "work_unit": "a", "lifetime": 0}),
    );
    assert_eq!(m.status, 200, "{}", m.text());
    let m = m.json();
    assert_ne!(m["url"], url.as_str(), "attempt URLs are unique");
    let a = send(
        addr,
        "POST",
        "/namespace/t/worker/w/make_attempt",
        &json!({"work_spec": "spec", "work_unit": "zz", "lifetime": 0}),
    );
    assert_eq!(
        error_of(&a),
        ("ErrNoSuchWorkUnit".into(), Some("zz".into()))
    );
    let a = send(
        addr,
        "POST",
        "/namespace/t/worker/w/make_attempt",
        &json!({"work_spec": "nope", "work_unit": "a", "lifetime": 0}),
    );
    assert_eq!(
        error_of(&a),
        ("ErrNoSuchWorkSpec".into(), Some("nope".into()))
    );
    // Renewing the older attempt, no longer active: ErrLostLease or ErrNotPending.
    let lost = send(addr, "POST", &format!("{url}/renew"), &renew);
    let code = error_of(&lost).0;
    assert!(code == "ErrLostLease" || code == "ErrNotPending", "{code}");
    // Retry with a delay: retryable attempt, delayed unit.
    let murl = m["url"].as_str().unwrap();
    assert_eq!(
        send(
            addr,
            "POST",
            &format!("{murl}/retry"),
            &json!({"extend_duration": 0, "delay": 90_000_000_000i64})
        )
        .status,
        204
    );
    assert_eq!(get(addr, murl).json()["status"], "retryable");
    assert_eq!(
        get(addr, &format!("{base}/work_unit/a")).json()["status"],
        "delayed"
    );

    // The attempt URL of a deleted unit resolves to ErrNoSuchWorkUnit.
    assert_eq!(
        delete(addr, &format!("{base}/work_unit?name=a")).json(),
        json!({"Deleted": 1})
    );
    let gone = get(addr, &url);
    assert_eq!(
        error_of(&gone),
        ("ErrNoSuchWorkUnit".into(), Some("a".into()))
    );

    // Workers: update, parent (set only), children, deactivate.
    let update = json!({"url": "", "name": "", "active": true, "mode": "run", "data": {"k": 1},
                        "expiration": "1970-01-01T00:20:00.5Z", "last_update": "1970-01-01T00:05:00Z"});
    assert_eq!(
        send(addr, "PUT", "/namespace/t/worker/child", &update).status,
        204
    );
    let set_parent = json!({"url": "", "name": "", "parent": "w", "active": false, "mode": "",
                            "data": null, "expiration": null, "last_update": null});
    assert_eq!(
        send(addr, "PUT", "/namespace/t/worker/child", &set_parent).status,
        204
    );
    let child = get(addr, "/namespace/t/worker/child").json();
    assert_eq!(child["parent"], "w");
    assert_eq!(child["parent_url"], "/namespace/t/worker/w");
    assert_eq!(
        child["active"], true,
        "setting a parent does not deactivate"
    );
    assert_eq!(child["mode"], "run");
    assert_eq!(child["data"], json!({"k": 1}));
    assert_eq!(child["expiration"], "1970-01-01T00:20:00.500Z");
    assert_eq!(child["last_update"], "1970-01-01T00:05:00Z");
    assert_eq!(
        get(addr, "/namespace/t/worker/w").json()["child_urls"],
        json!(["/namespace/t/worker/child"])
    );
    let deactivate = json!({"url": "", "name": "", "active": false, "mode": "", "data": null,
                            "expiration": null, "last_update": null});
    assert_eq!(
        send(addr, "PUT", "/namespace/t/worker/child", &deactivate).status,
        204
    );
    assert_eq!(
        get(addr, "/namespace/t/worker/child").json()["active"],
        false
    );
    let clear_parent = json!({"parent": ""});
    assert_eq!(
        send(addr, "PUT", "/namespace/t/worker/child", &clear_parent).status,
        204
    );
    assert!(get(addr, "/namespace/t/worker/child")
        .json()
        .get("parent")
        .is_none());
    let all = get(addr, "/namespace/t/worker/w/all_attempts").json();
    assert!(!all["attempts"].as_array().unwrap().is_empty());
    let children = get(addr, "/namespace/t/worker/w/child_attempts").json();
    assert_eq!(children, json!({"attempts": []}));
    // No work: `attempts` empty, no work_spec_url.
    let none = send(
        addr,
        "POST",
        "/namespace/t/worker/w/request_attempts",
        &json!({"work_specs": ["nothing-here"]}),
    )
    .json();
    assert!(none.get("work_spec_url").is_none());
    assert!(none["attempts"].as_array().is_none_or(|a| a.is_empty()));
}

#[test]
fn mock_time_header_in_test_mode_only() {
    let prod = common::daemon(false);
    let a = raw(
        prod.addr(),
        "GET",
        "/namespace/x",
        &[("X-Coordinate-Mock-Time", "1970-01-01T00:00:00Z")],
        None,
    );
    assert_eq!(a.status, 400, "refused outside test mode");
    assert!(a.json()["message"].as_str().unwrap().contains("test mode"));

    let d = common::daemon(true);
    let addr = d.addr();
    setup(addr, "clock", "s", &["u"]);
    let t = "1970-01-01T01:00:00.123456789Z";
    let body = serde_json::to_vec(&json!({"lifetime": 0})).unwrap();
    let a = raw(
        addr,
        "POST",
        "/namespace/clock/worker/w/request_attempts",
        &[("Content-Type", V1_JSON), ("X-Coordinate-Mock-Time", t)],
        Some((&body, Framing::Chunked)),
    );
    let at = &a.json()["attempts"][0];
    assert_eq!(at["start_time"], t, "nanoseconds kept");
    assert_eq!(
        at["expiration_time"], "1970-01-01T01:15:00.123456789Z",
        "default lease 15 min"
    );
    // Without the header the clock keeps its last time.
    let w = get(addr, "/namespace/clock/worker/fresh").json();
    assert_eq!(w["last_update"], t);
    let a = raw(
        addr,
        "GET",
        "/",
        &[("X-Coordinate-Mock-Time", "yesterday")],
        None,
    );
    assert_eq!(a.status, 400);
}

#[test]
fn media_types_methods_and_bodies() {
    let d = common::daemon(false);
    let addr = d.addr();
    // 415 for a body that is not one of the four JSON types (or none given).
    let body = br#"{"name": "x"}"#;
    for ct in [Some("text/plain"), None] {
        let mut headers = vec![("Accept", V1_JSON)];
        if let Some(ct) = ct {
            headers.push(("Content-Type", ct));
        }
        let a = raw(
            addr,
            "POST",
            "/namespace/m/work_spec",
            &headers,
            Some((body, Framing::Chunked)),
        );
        assert_eq!(a.status, 415, "{ct:?}");
        assert!(a.json()["message"]
            .as_str()
            .unwrap()
            .starts_with("Unsupported media type"));
    }
    // The aliases are accepted, with parameters.
    for ct in [
        "application/json; charset=utf-8",
        "text/json",
        "application/vnd.diffeo.coordinate+json",
    ] {
        let b = serde_json::to_vec(&spec_body(json!({"name": "x"}))).unwrap();
        let a = raw(
            addr,
            "POST",
            "/namespace/m/work_spec",
            &[("Content-Type", ct)],
            Some((&b, Framing::Chunked)),
        );
        assert_eq!(a.status, 201, "{ct}: {}", a.text());
    }
    // Accept: a known type is echoed; text/* gives text/json; nothing acceptable is 406.
    let a = raw(addr, "GET", "/", &[("Accept", "application/json")], None);
    assert!(a
        .header("content-type")
        .unwrap()
        .starts_with("application/json"));
    let a = raw(addr, "GET", "/", &[("Accept", "text/*")], None);
    assert!(a.header("content-type").unwrap().starts_with("text/json"));
    let a = raw(
        addr,
        "GET",
        "/",
        &[("Accept", "image/png, */*;q=0.1")],
        None,
    );
    assert!(a.header("content-type").unwrap().starts_with(V1_JSON));
    let a = raw(addr, "GET", "/", &[("Accept", "image/png")], None);
    assert_eq!(a.status, 406);
    assert!(a.header("content-type").unwrap().starts_with(V1_JSON));
    let a = raw(addr, "GET", "/", &[("Accept", "garbage")], None);
    assert_eq!(a.status, 400);
    // 405 with an error body for an unsupported method, also on handler-less routes.
    for (m, p) in [
        ("DELETE", "/summary"),
        ("GET", "/namespace/m/worker"),
        ("PUT", "/namespace/m/work_spec/x/work_unit/u/attempt"),
    ] {
        let a = raw(addr, m, p, &[("Accept", V1_JSON)], None);
        assert_eq!(a.status, 405, "{m} {p}");
        assert_eq!(error_of(&a).0, "error");
    }
    // Malformed JSON: 400. Unknown keys and nulls are ignored.
    let a = raw(
        addr,
        "POST",
        "/namespace/m/work_spec",
        &[("Content-Type", V1_JSON)],
        Some((b"{\"data\": {", Framing::Chunked)),
    );
    assert_eq!(a.status, 400);
    let a = send(
        addr,
        "POST",
        "/namespace/m/work_spec/x/work_unit",
        &json!({"name": "u", "data": null, "meta": null, "bogus": [1, 2], "status": "any"}),
    );
    assert_eq!(a.status, 201, "{}", a.text());
    // 204 answers still carry the content type.
    let a = delete(addr, "/namespace/m/work_spec/x");
    assert_eq!(a.status, 204);
    assert!(a.body.is_empty());
    // HEAD on a GET route: headers, no body.
    let a = raw(addr, "HEAD", "/", &[], None);
    assert_eq!(a.status, 200);
    assert!(a.body.is_empty());
    // Unknown routes: 404 with an error body.
    let a = get(addr, "/nothing/here");
    assert_eq!(a.status, 404);
    assert_eq!(error_of(&a).0, "error");
}

#[test]
fn data_dictionaries_json_and_cbor() {
    let d = common::daemon(false);
    let addr = d.addr();
    setup(addr, "c", "s", &[]);
    let base = "/namespace/c/work_spec/s";
    // {"key": ()}: a tuple, read back as a list; JSON can carry it.
    let a = send(
        addr,
        "POST",
        &format!("{base}/work_unit"),
        &unit_body("tuple", json!("oWNrZXnYgIA="), J::Null),
    );
    assert_eq!(a.status, 201, "{}", a.text());
    assert_eq!(
        get(addr, &format!("{base}/work_unit/tuple")).json()["data"],
        json!({"key": []})
    );
    // Byte strings cannot travel in JSON: the answer is the CBOR string form.
    let cbor = "oWZvdXRwdXSCRAECAwTYgINEAQIDBKChaHByaW9yaXR5AA==";
    let a = send(
        addr,
        "POST",
        &format!("{base}/work_unit"),
        &unit_body("bytes", json!(cbor), J::Null),
    );
    assert_eq!(a.status, 201, "{}", a.text());
    let data = get(addr, &format!("{base}/work_unit/bytes")).json()["data"].clone();
    let text = data.as_str().expect("CBOR string form for bytes");
    let bytes = base64::Engine::decode(&base64::engine::general_purpose::STANDARD, text).unwrap();
    let v: ciborium::Value = ciborium::de::from_reader(&bytes[..]).unwrap();
    let ciborium::Value::Map(pairs) = v else {
        panic!("a map")
    };
    assert_eq!(pairs[0].0, ciborium::Value::Text("output".into()));
    let ciborium::Value::Array(items) = &pairs[0].1 else {
        panic!("a list")
    };
    assert_eq!(items[0], ciborium::Value::Bytes(vec![1, 2, 3, 4]));
    // Empty lists survive; ints and floats stay apart.
    let a = send(
        addr,
        "POST",
        &format!("{base}/work_unit"),
        &unit_body("types", json!({"l": [], "i": 2, "f": 2.0}), J::Null),
    );
    assert_eq!(a.status, 201);
    let data = get(addr, &format!("{base}/work_unit/types")).json()["data"].clone();
    assert_eq!(
        serde_json::to_string(&data).unwrap(),
        r#"{"f":2.0,"i":2,"l":[]}"#
    );
    // Bad CBOR, bad base64, wrong shape: 400.
    for bad in [json!("!!notbase64"), json!("AAAA"), json!(5)] {
        let a = send(
            addr,
            "POST",
            &format!("{base}/work_unit"),
            &unit_body("bad", bad.clone(), J::Null),
        );
        assert_eq!(a.status, 400, "{bad}");
    }
}

#[test]
fn chained_output_and_core_error_codes() {
    let d = common::daemon(false);
    let addr = d.addr();
    setup(addr, "ch", "one", &["u1", "u2"]);
    let a = send(
        addr,
        "POST",
        "/namespace/ch/work_spec",
        &spec_body(json!({"name": "two"})),
    );
    assert_eq!(a.status, 201);
    let a = send(
        addr,
        "PUT",
        "/namespace/ch/work_spec/one",
        &spec_body(json!({"name": "one", "then": "two"})),
    );
    assert_eq!(a.status, 204);
    let r = send(
        addr,
        "POST",
        "/namespace/ch/worker/w/request_attempts",
        &json!({"number_of_work_units": 2, "work_specs": ["one"]}),
    )
    .json();
    let urls: Vec<String> = r["attempts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["url"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(urls.len(), 2);
    // Output chained into "two" through the attempt completion data.
    let fin = json!({"data": {"output": ["next-1", ["next-2", {"k": 1}, {"priority": 5.0}]]}});
    assert_eq!(
        send(addr, "POST", &format!("{}/finish", urls[0]), &fin).status,
        204
    );
    let u = get(addr, "/namespace/ch/work_spec/two/work_unit/next-2").json();
    assert_eq!(u["data"], json!({"k": 1}));
    assert_eq!(u["meta"]["priority"], json!(5.0));
    assert_eq!(
        get(addr, "/namespace/ch/work_spec/two/work_unit/next-1").json()["status"],
        "available"
    );
    // Items of the wrong shape are skipped (SEMANTICS §3.14); the finish succeeds.
    let bad = json!({"data": {"output": [["too-short"], 5, "fine"]}});
    let a = send(addr, "POST", &format!("{}/finish", urls[1]), &bad);
    assert_eq!(a.status, 204, "{}", a.text());
    assert_eq!(
        get(addr, "/namespace/ch/work_spec/two/work_unit/fine").status,
        200
    );
    let a = get(addr, "/namespace/ch/work_spec/two/work_unit/too-short");
    assert_eq!(error_of(&a).0, "ErrNoSuchWorkUnit");
    let counts = get(addr, "/namespace/ch/work_spec/two/counts").json();
    assert_eq!(counts, json!({"available": 3}));
}

#[test]
fn bearer_token_is_required_when_configured() {
    let d = common::daemon_with(|c| c.token = Some("s3cret".into()));
    let addr = d.addr();
    for auth in [
        None,
        Some("Bearer wrong"),
        Some("s3cret"),
        Some("Bearer s3cre"),
    ] {
        let mut headers = vec![("Accept", V1_JSON)];
        if let Some(a) = auth {
            headers.push(("Authorization", a));
        }
        let a = raw(addr, "GET", "/namespace/x", &headers, None);
        assert_eq!(a.status, 401, "{auth:?}");
        assert_eq!(error_of(&a).0, "Unauthorized");
    }
    let a = raw(
        addr,
        "GET",
        "/namespace/x",
        &[("Authorization", "Bearer s3cret")],
        None,
    );
    assert_eq!(a.status, 200);
    // /healthz needs no token.
    assert_eq!(raw(addr, "GET", "/healthz", &[], None).status, 200);
}
