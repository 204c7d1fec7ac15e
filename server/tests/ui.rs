//! The dashboard's HTML handlers against a real daemon on a loopback port:
//! escaping, paging, bad query parameters, the confirmation step, the form
//! token and origin check, read-only mode and the token login. The browser
//! test (server/tests/ui/ui.test.mjs, `make test-ui`) drives the same pages
//! in Chromium.

mod common;

use coordinate::{map, ConnectOptions, Coordinate, WorkUnitMeta, WorkUnitStatus};
use coordinate_server::Daemon;

use common::{daemon_with, raw, Answer, Framing};

fn connect(daemon: &Daemon, token: Option<&str>) -> Coordinate {
    coordinate_server::install();
    Coordinate::connect(
        &daemon.url(),
        ConnectOptions {
            token: token.map(str::to_owned),
            ..ConnectOptions::default()
        },
    )
    .expect("connect")
}

/// Namespace "n", spec "s" with `units` units `u000`..., and a unit named
/// like markup.
fn seed(coord: &Coordinate, units: usize) {
    let ns = coord.namespace("n").expect("ns");
    let ws = ns.set_work_spec(map([("name", "s")])).expect("spec");
    for i in 0..units {
        ws.add_work_unit(
            &format!("u{i:03}"),
            map([("k", i64::try_from(i % 2).expect("small"))]),
            WorkUnitMeta::default(),
        )
        .expect("unit");
    }
    ws.add_work_unit(
        "<script>alert('x')</script>",
        map([("html", "<img src=x onerror=alert(1)>")]),
        WorkUnitMeta::default(),
    )
    .expect("unit");
}

fn get(daemon: &Daemon, path: &str, headers: &[(&str, &str)]) -> Answer {
    raw(daemon.addr(), "GET", path, headers, None)
}

fn post(daemon: &Daemon, path: &str, headers: &[(&str, &str)], form: &[(&str, &str)]) -> Answer {
    let mut ser = form_urlencoded::Serializer::new(String::new());
    for (k, v) in form {
        ser.append_pair(k, v);
    }
    let body = ser.finish();
    let mut h = vec![("Content-Type", "application/x-www-form-urlencoded")];
    h.extend_from_slice(headers);
    raw(
        daemon.addr(),
        "POST",
        path,
        &h,
        Some((body.as_bytes(), Framing::Length)),
    )
}

/// The form token of a page (every action form carries it).
fn csrf(page: &str) -> String {
    let at = page
        .find("name=\"csrf\" value=\"")
        .expect("a page with an action form")
        + "name=\"csrf\" value=\"".len();
    page[at..at + 64].to_owned()
}

#[test]
fn overview_and_spec_page_escape_names_and_data() {
    let daemon = daemon_with(|_| {});
    let coord = connect(&daemon, None);
    seed(&coord, 3);
    let a = get(&daemon, "/ui/", &[]);
    assert_eq!(a.status, 200, "{}", a.text());
    assert!(a.header("content-type").unwrap().starts_with("text/html"));
    assert!(a
        .header("content-security-policy")
        .unwrap()
        .contains("script-src 'self'"));
    let page = a.text();
    assert!(page.contains("data-spec=\"s\""));
    assert!(page.contains("data-status=\"available\"><a href=\"/ui/spec?ns=n&amp;spec=s&amp;status=available\">4</a>"), "{page}");
    let a = get(&daemon, "/ui/spec?ns=n&spec=s", &[]);
    assert_eq!(a.status, 200);
    let page = a.text();
    assert!(
        page.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"),
        "{page}"
    );
    assert!(!page.contains("<script>alert"));
    let a = get(
        &daemon,
        "/ui/unit?ns=n&spec=s&unit=%3Cscript%3Ealert('x')%3C%2Fscript%3E",
        &[],
    );
    assert_eq!(a.status, 200, "{}", a.text());
    let page = a.text();
    assert!(page.contains("&lt;img src=x onerror=alert(1)&gt;"));
    assert!(!page.contains("<img"));
    assert!(!page.contains("<script>alert"));
}

#[test]
fn units_are_paged_by_name() {
    let daemon = daemon_with(|_| {});
    let coord = connect(&daemon, None);
    seed(&coord, 25);
    let page = get(&daemon, "/ui/spec?ns=n&spec=s&limit=10", &[]).text();
    assert_eq!(page.matches("<tr data-unit=").count(), 10);
    // "<script..." sorts before "u000".
    assert!(page.contains("after=u008"), "{page}");
    let page = get(&daemon, "/ui/spec?ns=n&spec=s&limit=10&after=u008", &[]).text();
    assert!(page.contains("<tr data-unit=\"u009\">"));
    assert!(page.contains("after=u018"));
    let page = get(&daemon, "/ui/spec?ns=n&spec=s&limit=10&after=u018", &[]).text();
    assert_eq!(page.matches("<tr data-unit=").count(), 6);
    assert!(!page.contains("id=\"next\""));
    // A prefix and a data search narrow it.
    let page = get(&daemon, "/ui/spec?ns=n&spec=s&prefix=u01", &[]).text();
    assert_eq!(page.matches("<tr data-unit=").count(), 10);
    let page = get(&daemon, "/ui/spec?ns=n&spec=s&key=k&value=1", &[]).text();
    assert_eq!(page.matches("<tr data-unit=").count(), 12);
    assert!(page.contains("this page read 26 units"), "{page}");
}

#[test]
fn bad_query_parameters_are_400_naming_them() {
    let daemon = daemon_with(|_| {});
    let coord = connect(&daemon, None);
    seed(&coord, 1);
    for (path, says) in [
        ("/ui/spec?ns=n&spec=s&limit=0", "limit \"0\""),
        ("/ui/spec?ns=n&spec=s&limit=many", "limit \"many\""),
        ("/ui/spec?ns=n&spec=s&status=lost", "status \"lost\""),
        (
            "/ui/spec?ns=n&spec=s&colour=red",
            "unknown query parameter \"colour\"",
        ),
        ("/ui/spec?ns=n&spec=s&spec=t", "\"spec\" is given twice"),
        ("/ui/spec?ns=n", "\"spec\" is missing"),
        ("/ui/spec?ns=n&spec=s&value=3", "needs a data key"),
        ("/ui/?x=1", "unknown query parameter \"x\""),
    ] {
        let a = get(&daemon, path, &[]);
        assert_eq!(a.status, 400, "{path}: {}", a.text());
        assert!(
            a.text().contains(&says.replace('"', "&quot;")),
            "{path}: {}",
            a.text()
        );
    }
    assert_eq!(get(&daemon, "/ui/spec?ns=n&spec=nope", &[]).status, 404);
    assert_eq!(get(&daemon, "/ui/spec?ns=nope&spec=s", &[]).status, 404);
    assert_eq!(get(&daemon, "/ui/nothing", &[]).status, 404);
    assert_eq!(get(&daemon, "/ui", &[]).status, 303);
    assert_eq!(raw(daemon.addr(), "PUT", "/ui/", &[], None).status, 405);
}

#[test]
fn actions_confirm_first_and_need_the_form_token_and_origin() {
    let daemon = daemon_with(|_| {});
    let coord = connect(&daemon, None);
    seed(&coord, 2);
    let ws = coord.namespace("n").unwrap().work_spec("s").unwrap();
    let page = get(&daemon, "/ui/spec?ns=n&spec=s", &[]).text();
    let token = csrf(&page);
    let pause = [
        ("csrf", token.as_str()),
        ("action", "pause"),
        ("ns", "n"),
        ("spec", "s"),
    ];
    // The first POST is the confirmation page; nothing changes.
    let a = post(&daemon, "/ui/action", &[], &pause);
    assert_eq!(a.status, 200);
    assert!(a.text().contains("Pause work spec &quot;s&quot;?"));
    assert!(a.text().contains("name=\"confirmed\" value=\"yes\""));
    assert!(!ws.meta(false).unwrap().paused);
    // Confirmed: done, through the API.
    let mut confirmed = pause.to_vec();
    confirmed.push(("confirmed", "yes"));
    let a = post(&daemon, "/ui/action", &[], &confirmed);
    assert_eq!(a.status, 303, "{}", a.text());
    assert!(a.header("location").unwrap().contains("done=paused"));
    assert!(ws.meta(false).unwrap().paused);
    // Without the token, or from another site: refused.
    let mut resume: Vec<(&str, &str)> = vec![
        ("action", "resume"),
        ("ns", "n"),
        ("spec", "s"),
        ("confirmed", "yes"),
    ];
    assert_eq!(post(&daemon, "/ui/action", &[], &resume).status, 403);
    resume.push(("csrf", &token));
    let evil = [("Origin", "http://evil.example")];
    assert_eq!(post(&daemon, "/ui/action", &evil, &resume).status, 403);
    let cross = [("Sec-Fetch-Site", "cross-site")];
    assert_eq!(post(&daemon, "/ui/action", &cross, &resume).status, 403);
    assert!(ws.meta(false).unwrap().paused);
    let origin = format!("http://{}", daemon.addr());
    let same = [("Origin", origin.as_str())];
    assert_eq!(post(&daemon, "/ui/action", &same, &resume).status, 303);
    assert!(!ws.meta(false).unwrap().paused);
    // Bad input in a form is a 400 naming it.
    let a = post(
        &daemon,
        "/ui/action",
        &[],
        &[
            ("csrf", &token),
            ("action", "spec-priority"),
            ("ns", "n"),
            ("spec", "s"),
            ("priority", "high"),
        ],
    );
    assert_eq!(a.status, 400);
    assert!(a.text().contains("whole number, not &quot;high&quot;"));
    // Delete the units matching a prefix.
    let a = post(
        &daemon,
        "/ui/action",
        &[],
        &[
            ("csrf", &token),
            ("action", "delete-matching"),
            ("ns", "n"),
            ("spec", "s"),
            ("prefix", "u"),
            ("confirmed", "yes"),
        ],
    );
    assert_eq!(a.status, 303);
    let left = ws.count_work_unit_status().unwrap();
    assert_eq!(left.get(&WorkUnitStatus::Available), Some(&1));
}

#[test]
fn read_only_shows_no_actions_and_refuses_them() {
    let daemon = daemon_with(|c| c.ui_read_only = true);
    let coord = connect(&daemon, None);
    seed(&coord, 1);
    let page = get(&daemon, "/ui/spec?ns=n&spec=s", &[]).text();
    assert!(page.contains("id=\"read-only\""));
    assert!(!page.contains("action=\"/ui/action\""));
    let a = post(
        &daemon,
        "/ui/action",
        &[],
        &[
            ("action", "pause"),
            ("ns", "n"),
            ("spec", "s"),
            ("confirmed", "yes"),
        ],
    );
    assert_eq!(a.status, 403);
    assert!(a.text().contains("read-only"));
    let ws = coord.namespace("n").unwrap().work_spec("s").unwrap();
    assert!(!ws.meta(false).unwrap().paused);
}

#[test]
fn a_token_needs_the_bearer_header_or_a_login() {
    let daemon = daemon_with(|c| c.token = Some("sesame".into()));
    let coord = connect(&daemon, Some("sesame"));
    seed(&coord, 1);
    let a = get(&daemon, "/ui/", &[]);
    assert_eq!(a.status, 303);
    assert_eq!(a.header("location"), Some("/ui/login"));
    assert_eq!(
        get(&daemon, "/ui/", &[("Authorization", "Bearer sesame")]).status,
        200
    );
    assert_eq!(
        get(&daemon, "/ui/", &[("Authorization", "Bearer open")]).status,
        303
    );
    // The login page and the assets need no token.
    assert_eq!(get(&daemon, "/ui/login", &[]).status, 200);
    assert_eq!(get(&daemon, "/ui/static/app.js", &[]).status, 200);
    let a = post(&daemon, "/ui/login", &[], &[("token", "open")]);
    assert_eq!(a.status, 401);
    assert!(a.header("set-cookie").is_none());
    let a = post(&daemon, "/ui/login", &[], &[("token", "sesame")]);
    assert_eq!(a.status, 303);
    let cookie = a.header("set-cookie").unwrap().to_owned();
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"));
    assert!(!cookie.contains("sesame"));
    let pair = cookie.split(';').next().unwrap().to_owned();
    let a = get(&daemon, "/ui/spec?ns=n&spec=s", &[("Cookie", &pair)]);
    assert_eq!(a.status, 200);
    assert!(a.text().contains("log out"));
    let last = if pair.ends_with('0') { '1' } else { '0' };
    let forged = format!("{}{last}", &pair[..pair.len() - 1]);
    assert_eq!(get(&daemon, "/ui/", &[("Cookie", &forged)]).status, 303);
    // A POST without a session is 401, not a redirect.
    let a = post(&daemon, "/ui/action", &[], &[("action", "pause")]);
    assert_eq!(a.status, 401);
    // The API itself still needs the bearer token.
    assert_eq!(get(&daemon, "/metrics", &[("Cookie", &pair)]).status, 401);
}
