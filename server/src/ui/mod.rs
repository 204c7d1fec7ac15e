//! The dashboard at `/ui/`: server-rendered HTML over the daemon's own
//! store, every read and every action one call of the public API (the
//! same [`Coordinate`] handles and operations the clients send), so no
//! rule about scheduling or status is decided here.
//!
//! - Pages: namespaces and their work specs (counts per status, priority,
//!   weight, paused, finished/failed per minute and a chart of the last
//!   hour), the worker tree of a namespace, the units of a spec (paged by
//!   name, filtered by status, searched by name prefix or by a data
//!   key/value in bounded scans) and a unit with its attempts.
//! - Actions (POST `/ui/action`): pause/resume and priority of a spec;
//!   retry (clear the active attempt of) failed units, delete units,
//!   priority of a unit. Each shows a confirmation page first, carries the
//!   per-process form token and must come from the same origin.
//!   `--ui-read-only` shows no actions and refuses them.
//! - With a token (`--token-file`), a page needs the bearer header or the
//!   session cookie the login form sets (HttpOnly, SameSite=Strict; a
//!   random value of this process, never the token itself).
//! - Assets (one stylesheet, one script that polls the page's live part)
//!   are compiled into the binary; the chart is SVG drawn here.

mod html;
mod rates;

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::io;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, SecondsFormat, Utc};
use coordinate::backend::{Op, Reply};
use coordinate::{
    Coordinate, Error, Map, Namespace, WorkSpec, WorkUnit, WorkUnitQuery, WorkUnitStatus,
};

use crate::daemon::{constant_time_eq, App};
use html::{data_table, esc, url, Layout};
use rates::{chart, PerMinute, Rates, SpecKey};

const STYLE: &str = include_str!("../../ui/style.css");
const SCRIPT: &str = include_str!("../../ui/app.js");
const ICON: &str = include_str!("../../ui/icon.svg");

/// The session cookie's name.
const COOKIE: &str = "coordinate_ui";
/// Units on a page by default, and at most.
const PAGE: usize = 50;
const MAX_PAGE: usize = 500;
/// Units a data key/value search reads per page at most.
const SCAN: usize = 1000;
/// Units one bulk action (retry or delete matching) touches at most.
const MAX_BULK: usize = 100_000;
/// Workers a worker page shows at most.
const MAX_WORKERS: usize = 2000;
/// The statuses a unit can have, in the order the pages show them.
const STATUSES: [WorkUnitStatus; 5] = [
    WorkUnitStatus::Available,
    WorkUnitStatus::Pending,
    WorkUnitStatus::Delayed,
    WorkUnitStatus::Finished,
    WorkUnitStatus::Failed,
];

/// The dashboard's part of the daemon's shared state.
pub(crate) struct UiState {
    read_only: bool,
    token: Option<Vec<u8>>,
    /// The session cookie's value (random, per process).
    session: String,
    /// The token every action form carries (random, per process).
    csrf: String,
    sample_every: Duration,
    rates: Mutex<Rates>,
}

impl std::fmt::Debug for UiState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The token, session and form token stay out of logs.
        f.debug_struct("UiState")
            .field("read_only", &self.read_only)
            .field("token", &self.token.as_ref().map(|_| "<hidden>"))
            .field("sample_every", &self.sample_every)
            .finish_non_exhaustive()
    }
}

impl UiState {
    /// The state of a daemon with these settings.
    pub(crate) fn new(
        token: Option<&str>,
        read_only: bool,
        sample_every: Duration,
    ) -> io::Result<UiState> {
        let mut bytes = [0_u8; 64];
        getrandom::fill(&mut bytes).map_err(|e| io::Error::other(format!("no randomness: {e}")))?;
        Ok(UiState {
            read_only,
            token: token.map(|t| t.as_bytes().to_vec()),
            session: html::hex(&bytes[..32]),
            csrf: html::hex(&bytes[32..]),
            sample_every,
            rates: Mutex::new(Rates::new(sample_every)),
        })
    }

    fn rates(&self) -> std::sync::MutexGuard<'_, Rates> {
        self.rates.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Samples the main store's counts into the rate buffer, forever (the
/// daemon aborts it at shutdown).
pub(crate) async fn sample(app: Arc<App>) {
    let mut tick = tokio::time::interval(app.ui.sample_every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let store = app.stores.main.clone();
        let summary =
            tokio::task::spawn_blocking(move || store.run(None, |b| b.call(Op::Summarize))).await;
        match summary {
            Ok(Ok(Reply::Summary(s))) => app.ui.rates().push(Instant::now(), &s),
            Ok(Ok(other)) => tracing::warn!(reply = ?other, "the store answered Summarize oddly"),
            Ok(Err(e)) => tracing::warn!(error = %e, "cannot sample the store's counts"),
            Err(e) => tracing::warn!(error = %e, "the sampler's store call did not finish"),
        }
    }
}

/// Why a page or an action was refused: its status and a message.
#[derive(Debug)]
pub(crate) struct UiError {
    status: StatusCode,
    message: String,
}

impl UiError {
    fn new(status: StatusCode, message: impl Into<String>) -> UiError {
        UiError {
            status,
            message: message.into(),
        }
    }

    fn bad(message: impl Into<String>) -> UiError {
        UiError::new(StatusCode::BAD_REQUEST, message)
    }
}

impl From<Error> for UiError {
    fn from(e: Error) -> UiError {
        let status = match e {
            Error::NoSuchWorkSpec { .. } | Error::NoSuchWorkUnit { .. } | Error::Gone => {
                StatusCode::NOT_FOUND
            }
            Error::BadPriority | Error::OutOfRange { .. } | Error::InvalidStatus { .. } => {
                StatusCode::BAD_REQUEST
            }
            Error::Unavailable { .. } => StatusCode::SERVICE_UNAVAILABLE,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        };
        UiError::new(status, e.to_string())
    }
}

impl IntoResponse for UiError {
    fn into_response(self) -> Response {
        let body = format!(
            "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
             <title>{code} · coordinated</title>\
             <link rel=\"icon\" href=\"/ui/static/icon.svg\">\
             <link rel=\"stylesheet\" href=\"/ui/static/style.css\"></head>\
             <body><header><a class=\"brand\" href=\"/ui/\">coordinated</a></header><main>\
             <h1>{code}</h1><p class=\"error\" id=\"error\">{msg}</p>\
             <p><a href=\"/ui/\">back to the dashboard</a></p></main></body></html>\n",
            code = self.status,
            msg = esc(&self.message),
        );
        (
            self.status,
            [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
            body,
        )
            .into_response()
    }
}

type Page = Result<Response, UiError>;

/// Every `/ui` request.
pub(crate) async fn handle(State(app): State<Arc<App>>, request: Request) -> Response {
    let mut response = serve(app, request)
        .await
        .unwrap_or_else(|e| e.into_response());
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; \
             connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.entry(header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-store"));
    response
}

async fn serve(app: Arc<App>, request: Request) -> Page {
    let (parts, body) = request.into_parts();
    let path = parts.uri.path().to_owned();
    let query = parts.uri.query().unwrap_or("").to_owned();
    let method = parts.method.clone();
    let headers = parts.headers;
    match (method.clone(), path.as_str()) {
        (Method::GET, "/ui") => return Ok(redirect("/ui/")),
        (Method::GET, "/ui/static/style.css") => {
            return Ok(asset("text/css; charset=utf-8", STYLE))
        }
        (Method::GET, "/ui/static/app.js") => {
            return Ok(asset("text/javascript; charset=utf-8", SCRIPT))
        }
        (Method::GET, "/ui/static/icon.svg") => return Ok(asset("image/svg+xml", ICON)),
        (Method::GET, "/ui/login") => return Ok(login_page(&app, "")),
        (Method::POST, "/ui/login") => {
            same_origin(&headers)?;
            let form = read_form(&app, body).await?;
            return login(&app, &form);
        }
        _ => {}
    }
    let logged_in = match authorized(&app, &headers) {
        Some(cookie) => cookie,
        None if method == Method::GET => return Ok(redirect("/ui/login")),
        None => {
            return Err(UiError::new(
                StatusCode::UNAUTHORIZED,
                "log in first: this daemon has a token",
            ))
        }
    };
    let ctx = Ctx {
        app: app.clone(),
        logged_in,
    };
    match (method, path.as_str()) {
        (Method::GET, "/ui/") => {
            params(&query, &[])?;
            ctx.run(overview).await
        }
        (Method::GET, "/ui/workers") => {
            let q = params(&query, &["ns"])?;
            let ns = q.get("ns").cloned().unwrap_or_default();
            ctx.run(move |c, x| workers_page(c, x, &ns)).await
        }
        (Method::GET, "/ui/spec") => {
            let q = params(&query, &SPEC_PARAMS)?;
            let view = SpecView::from_params(&q)?;
            ctx.run(move |c, x| spec_page(c, x, &view)).await
        }
        (Method::GET, "/ui/unit") => {
            let q = params(&query, &["ns", "spec", "unit", "done"])?;
            let ns = required(&q, "ns")?;
            let spec = required(&q, "spec")?;
            let unit = required(&q, "unit")?;
            let done = q.get("done").cloned().unwrap_or_default();
            ctx.run(move |c, x| unit_page(c, x, &ns, &spec, &unit, &done))
                .await
        }
        (Method::POST, "/ui/action") => {
            same_origin(&headers)?;
            if app.ui.read_only {
                return Err(UiError::new(
                    StatusCode::FORBIDDEN,
                    "the dashboard is read-only (coordinated --ui-read-only)",
                ));
            }
            let form = read_form(&app, body).await?;
            check_csrf(&app, &form)?;
            let action = Action::from_form(&form)?;
            if form.get("confirmed").map(String::as_str) == Some("yes") {
                ctx.run(move |c, _| action.run(c)).await
            } else {
                Ok(html_page(
                    &ctx.layout("Confirm", Vec::new(), false)
                        .render(&action.confirmation(&app.ui.csrf)),
                ))
            }
        }
        (Method::POST, "/ui/logout") => {
            same_origin(&headers)?;
            let form = read_form(&app, body).await?;
            check_csrf(&app, &form)?;
            let mut r = redirect("/ui/login");
            r.headers_mut().insert(
                header::SET_COOKIE,
                HeaderValue::from_static(
                    "coordinate_ui=; Path=/ui; HttpOnly; SameSite=Strict; Max-Age=0",
                ),
            );
            Ok(r)
        }
        (Method::GET | Method::POST, _) => Err(UiError::new(
            StatusCode::NOT_FOUND,
            format!("no dashboard page {path}"),
        )),
        (m, _) => Err(UiError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            format!("method {m} is not allowed on the dashboard"),
        )),
    }
}

/// What every page handler gets.
struct Ctx {
    app: Arc<App>,
    logged_in: bool,
}

impl Ctx {
    /// Runs `f` on the blocking pool with a `Coordinate` over the main store.
    async fn run(self, f: impl FnOnce(&Coordinate, &Ctx) -> Page + Send + 'static) -> Page {
        let result = tokio::task::spawn_blocking(move || {
            let coord = Coordinate::from_backend(self.app.stores.main.backend().clone());
            f(&coord, &self)
        })
        .await;
        match result {
            Ok(page) => page,
            Err(e) => {
                tracing::error!(error = %e, "a dashboard handler panicked");
                Err(UiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    format!("the page could not be made: {e}"),
                ))
            }
        }
    }

    fn layout<'a>(
        &'a self,
        title: &'a str,
        crumbs: Vec<(String, String)>,
        live: bool,
    ) -> Layout<'a> {
        let mut all = vec![("namespaces".to_owned(), "/ui/".to_owned())];
        all.extend(crumbs);
        Layout {
            title,
            crumbs: all,
            read_only: self.app.ui.read_only,
            logged_in: self.logged_in,
            csrf: &self.app.ui.csrf,
            live,
        }
    }

    fn actions(&self) -> bool {
        !self.app.ui.read_only
    }

    /// A form posting one action (to its confirmation page).
    fn action_form(
        &self,
        label: &str,
        class: &str,
        fields: &[(&str, &str)],
        extra: &str,
    ) -> String {
        if !self.actions() {
            return String::new();
        }
        let mut out = format!(
            "<form method=\"post\" action=\"/ui/action\" class=\"action {}\">\
             <input type=\"hidden\" name=\"csrf\" value=\"{}\">",
            esc(class),
            esc(&self.app.ui.csrf)
        );
        for (k, v) in fields {
            let _ = write!(
                out,
                "<input type=\"hidden\" name=\"{}\" value=\"{}\">",
                esc(k),
                esc(v)
            );
        }
        let _ = write!(
            out,
            "{extra}<button type=\"submit\">{}</button></form>",
            esc(label)
        );
        out
    }
}

fn html_page(body: &str) -> Response {
    (
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        body.to_owned(),
    )
        .into_response()
}

fn asset(content_type: &'static str, text: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "max-age=300"),
        ],
        text,
    )
        .into_response()
}

fn redirect(to: &str) -> Response {
    let mut r = StatusCode::SEE_OTHER.into_response();
    if let Ok(v) = HeaderValue::from_str(to) {
        r.headers_mut().insert(header::LOCATION, v);
    }
    r
}

// ---- authentication, origin and form token ----

/// `Some(logged_in_by_cookie)` when the request may see the dashboard.
fn authorized(app: &App, headers: &HeaderMap) -> Option<bool> {
    let Some(token) = &app.ui.token else {
        return Some(false);
    };
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.as_bytes().strip_prefix(b"Bearer "));
    if bearer.is_some_and(|b| constant_time_eq(b, token)) {
        return Some(false);
    }
    let cookie_ok = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .any(|(k, v)| k == COOKIE && constant_time_eq(v.as_bytes(), app.ui.session.as_bytes()));
    cookie_ok.then_some(true)
}

/// Refuses a POST a browser sent from another site.
fn same_origin(headers: &HeaderMap) -> Result<(), UiError> {
    let cross = || {
        UiError::new(
            StatusCode::FORBIDDEN,
            "refused a form sent from another site (Origin or Sec-Fetch-Site is not this origin)",
        )
    };
    if let Some(site) = headers.get("sec-fetch-site") {
        if site.as_bytes() != b"same-origin" {
            return Err(cross());
        }
    }
    if let Some(origin) = headers.get(header::ORIGIN) {
        let host = headers
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .unwrap_or("");
        let origin = origin.to_str().unwrap_or("");
        let same = origin
            .strip_prefix("http://")
            .or_else(|| origin.strip_prefix("https://"))
            .is_some_and(|o| !host.is_empty() && o.eq_ignore_ascii_case(host));
        if !same {
            return Err(cross());
        }
    }
    Ok(())
}

fn check_csrf(app: &App, form: &HashMap<String, String>) -> Result<(), UiError> {
    let given = form.get("csrf").map(String::as_str).unwrap_or("");
    if constant_time_eq(given.as_bytes(), app.ui.csrf.as_bytes()) {
        Ok(())
    } else {
        Err(UiError::new(
            StatusCode::FORBIDDEN,
            "the form token is missing or stale: reload the page and try again",
        ))
    }
}

fn login_page(app: &App, message: &str) -> Response {
    let body = if app.ui.token.is_none() {
        "<h1>No login needed</h1><p>This daemon has no token. \
         <a href=\"/ui/\">Open the dashboard</a>.</p>"
            .to_owned()
    } else {
        format!(
            "<h1>Log in</h1>{msg}<form method=\"post\" action=\"/ui/login\" class=\"login\">\
             <label>API token <input type=\"password\" name=\"token\" id=\"token\" \
             autocomplete=\"current-password\" required></label>\
             <button type=\"submit\" id=\"login\">log in</button></form>\
             <p class=\"muted\">The token of <code>coordinated --token-file</code>; \
             the browser keeps a session cookie for this process, not the token.</p>",
            msg = if message.is_empty() {
                String::new()
            } else {
                format!("<p class=\"error\" id=\"error\">{}</p>", esc(message))
            }
        )
    };
    let layout = Layout {
        title: "log in",
        crumbs: vec![("log in".into(), "/ui/login".into())],
        read_only: app.ui.read_only,
        logged_in: false,
        csrf: "",
        live: false,
    };
    let mut r = html_page(&layout.render(&body));
    if !message.is_empty() {
        *r.status_mut() = StatusCode::UNAUTHORIZED;
    }
    r
}

fn login(app: &App, form: &HashMap<String, String>) -> Page {
    let Some(token) = &app.ui.token else {
        return Ok(redirect("/ui/"));
    };
    let given = form.get("token").map(String::as_str).unwrap_or("");
    if !constant_time_eq(given.trim().as_bytes(), token) {
        tracing::warn!("refused a dashboard login with a wrong token");
        return Ok(login_page(app, "That is not this daemon's token."));
    }
    let mut r = redirect("/ui/");
    let cookie = format!(
        "{COOKIE}={}; Path=/ui; HttpOnly; SameSite=Strict",
        app.ui.session
    );
    let value = HeaderValue::from_str(&cookie)
        .map_err(|e| UiError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
    r.headers_mut().insert(header::SET_COOKIE, value);
    Ok(r)
}

// ---- query strings and forms ----

/// The pairs of a query string or form body; an unknown or repeated name
/// is a 400 naming it (`allowed` empty: no parameters at all).
fn params(text: &str, allowed: &[&str]) -> Result<HashMap<String, String>, UiError> {
    let mut out = HashMap::new();
    for (k, v) in form_urlencoded::parse(text.as_bytes()) {
        if !allowed.contains(&k.as_ref()) {
            return Err(UiError::bad(if allowed.is_empty() {
                format!("unknown query parameter {k:?}: this page takes none")
            } else {
                format!(
                    "unknown query parameter {k:?}: this page takes {}",
                    allowed.join(", ")
                )
            }));
        }
        if out.insert(k.clone().into_owned(), v.into_owned()).is_some() {
            return Err(UiError::bad(format!(
                "query parameter {k:?} is given twice"
            )));
        }
    }
    Ok(out)
}

fn required(q: &HashMap<String, String>, name: &str) -> Result<String, UiError> {
    q.get(name)
        .cloned()
        .ok_or_else(|| UiError::bad(format!("query parameter {name:?} is missing")))
}

async fn read_form(app: &App, body: axum::body::Body) -> Result<HashMap<String, String>, UiError> {
    let bytes = app
        .read_body(body, crate::daemon::Flavor::Rest)
        .await
        .map_err(|r| UiError::new(r.status, r.message))?;
    let text = std::str::from_utf8(&bytes).map_err(|_| UiError::bad("the form is not UTF-8"))?;
    params(text, &FORM_FIELDS)
}

const FORM_FIELDS: [&str; 13] = [
    "csrf",
    "action",
    "ns",
    "spec",
    "unit",
    "status",
    "prefix",
    "key",
    "value",
    "priority",
    "confirmed",
    "token",
    "limit",
];

const SPEC_PARAMS: [&str; 9] = [
    "ns", "spec", "status", "prefix", "key", "value", "after", "limit", "done",
];

fn parse_status(text: &str) -> Result<Option<WorkUnitStatus>, UiError> {
    match text {
        "" | "any" => Ok(None),
        t => t.parse::<WorkUnitStatus>().map(Some).map_err(|_| {
            UiError::bad(format!(
                "status {t:?} is not one of any, available, pending, delayed, finished, failed"
            ))
        }),
    }
}

/// Which units of a spec a page or a bulk action means.
#[derive(Clone, Debug, Default)]
struct Filter {
    status: Option<WorkUnitStatus>,
    prefix: String,
    /// A data key and the value it must have (`key` empty: no data search).
    key: String,
    value: String,
}

impl Filter {
    fn from_params(q: &HashMap<String, String>) -> Result<Filter, UiError> {
        let get = |k: &str| q.get(k).cloned().unwrap_or_default();
        let filter = Filter {
            status: parse_status(&get("status"))?,
            prefix: get("prefix"),
            key: get("key"),
            value: get("value"),
        };
        if filter.key.is_empty() && !filter.value.is_empty() {
            return Err(UiError::bad(
                "a data value to search for needs a data key (parameter \"key\")",
            ));
        }
        Ok(filter)
    }

    fn pairs(&self) -> Vec<(&'static str, String)> {
        let mut out = Vec::new();
        if let Some(s) = self.status {
            out.push(("status", s.as_str().to_owned()));
        }
        for (k, v) in [
            ("prefix", &self.prefix),
            ("key", &self.key),
            ("value", &self.value),
        ] {
            if !v.is_empty() {
                out.push((k, v.clone()));
            }
        }
        out
    }

    fn describe(&self) -> String {
        let mut parts = Vec::new();
        if let Some(s) = self.status {
            parts.push(format!("status {s}"));
        }
        if !self.prefix.is_empty() {
            parts.push(format!("name starting with {:?}", self.prefix));
        }
        if !self.key.is_empty() {
            parts.push(format!("data {:?} = {:?}", self.key, self.value));
        }
        if parts.is_empty() {
            "every unit".to_owned()
        } else {
            parts.join(", ")
        }
    }

    /// The store query for names after `after` (prefix bounded), `limit` of them.
    fn query(&self, after: &str, limit: usize) -> WorkUnitQuery {
        let previous = if after < self.prefix.as_str() {
            // Names with the prefix sort right after the prefix itself; the
            // prefix as a name is asked for on its own (see `page`).
            self.prefix.clone()
        } else {
            after.to_owned()
        };
        WorkUnitQuery {
            names: None,
            statuses: self.status.map(|s| vec![s]),
            previous_name: previous,
            limit: i64::try_from(limit).unwrap_or(i64::MAX),
        }
    }
}

/// One page of a spec's units under a filter.
struct UnitPage {
    units: Vec<WorkUnit>,
    /// The cursor of the next page, if there may be one.
    next: Option<String>,
    /// For a data search: how many units were read.
    scanned: Option<usize>,
}

/// Units of `ws` passing `filter` whose names sort after `after`, at most
/// `limit`; a data search reads at most `scan` units.
fn page(
    ws: &WorkSpec,
    filter: &Filter,
    after: &str,
    limit: usize,
    scan: usize,
) -> Result<UnitPage, UiError> {
    let mut candidates: Vec<WorkUnit> = Vec::new();
    if !filter.prefix.is_empty() && after < filter.prefix.as_str() {
        let exact = WorkUnitQuery {
            names: Some(vec![filter.prefix.clone()]),
            statuses: filter.status.map(|s| vec![s]),
            ..WorkUnitQuery::default()
        };
        candidates.extend(ws.work_units(&exact)?.into_values());
    }
    let want = if filter.key.is_empty() {
        limit + 1
    } else {
        scan
    };
    let mut more_in_store = false;
    let rest = ws.work_units(&filter.query(after, want))?;
    if rest.len() >= want {
        more_in_store = true;
    }
    candidates.extend(
        rest.into_values()
            .take_while(|u| u.name().starts_with(filter.prefix.as_str())),
    );
    if candidates.len() < want {
        // The prefix ran out before the page did.
        more_in_store = false;
    }
    if filter.key.is_empty() {
        let next = (candidates.len() > limit).then(|| candidates[limit - 1].name().to_owned());
        candidates.truncate(limit);
        return Ok(UnitPage {
            units: candidates,
            next,
            scanned: None,
        });
    }
    let ops: Vec<Op> = candidates
        .iter()
        .map(|u| Op::UnitData { unit: u.key() })
        .collect();
    let datas = ws.namespace().coordinate().batch(ops)?;
    let scanned_all = candidates.len();
    let mut units = Vec::new();
    let mut next = None;
    for (i, (u, data)) in candidates.into_iter().zip(datas).enumerate() {
        let hit = matches!(&data, Ok(Reply::Data(d))
            if d.get(&filter.key).is_some_and(|v| html::value_matches(v, &filter.value)));
        if hit {
            units.push(u);
            if units.len() == limit {
                if i + 1 < scanned_all || more_in_store {
                    next = Some(units[limit - 1].name().to_owned());
                }
                return Ok(UnitPage {
                    units,
                    next,
                    scanned: Some(i + 1),
                });
            }
        } else if i + 1 == scanned_all && more_in_store {
            next = Some(u.name().to_owned());
        }
    }
    if next.is_none() && more_in_store {
        next = units.last().map(|u| u.name().to_owned());
    }
    Ok(UnitPage {
        units,
        next,
        scanned: Some(scanned_all),
    })
}

// ---- reading ----

fn find_ns(coord: &Coordinate, name: &str) -> Result<Namespace, UiError> {
    coord
        .namespaces()?
        .remove(name)
        .ok_or_else(|| UiError::new(StatusCode::NOT_FOUND, format!("no namespace {name:?}")))
}

fn counts_of(ws: &WorkSpec) -> Result<BTreeMap<WorkUnitStatus, i64>, UiError> {
    Ok(ws.count_work_unit_status()?)
}

fn fmt_time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

fn fmt_age(now: DateTime<Utc>, t: DateTime<Utc>) -> String {
    let secs = (now - t).num_seconds();
    match secs {
        s if s < 0 => format!("in {}s", -s),
        s if s < 120 => format!("{s}s ago"),
        s if s < 7200 => format!("{}m ago", s / 60),
        s if s < 172_800 => format!("{}h ago", s / 3600),
        s => format!("{}d ago", s / 86400),
    }
}

fn fmt_rate(r: f64) -> String {
    if r >= 100.0 {
        format!("{r:.0}")
    } else {
        format!("{r:.1}")
    }
}

fn spec_href(ns: &str, spec: &str, extra: &[(&str, &str)]) -> String {
    let mut pairs = vec![("ns", ns), ("spec", spec)];
    pairs.extend_from_slice(extra);
    url("/ui/spec", &pairs)
}

fn unit_href(ns: &str, spec: &str, unit: &str) -> String {
    url("/ui/unit", &[("ns", ns), ("spec", spec), ("unit", unit)])
}

fn rates_cells(r: PerMinute) -> String {
    format!(
        "<td class=\"num rate\" data-rate=\"finished\">{}</td>\
         <td class=\"num rate\" data-rate=\"failed\">{}</td>",
        fmt_rate(r.finished),
        fmt_rate(r.failed)
    )
}

fn overview(coord: &Coordinate, ctx: &Ctx) -> Page {
    let namespaces = coord.namespaces()?;
    let mut body = String::from("<div id=\"live\"><h1>Namespaces</h1>");
    if namespaces.is_empty() {
        body.push_str("<p class=\"muted\">No namespaces yet.</p>");
    }
    for (name, ns) in &namespaces {
        let specs = ns.work_spec_names()?;
        let workers = ns.workers()?.len();
        let (ns_rate, (ns_series, span)) = {
            let r = ctx.app.ui.rates();
            (r.recent(None, Some(name)), r.series_in(None, Some(name)))
        };
        let shown = if name.is_empty() { "(default)" } else { name };
        let _ = write!(
            body,
            "<section class=\"ns\" data-ns=\"{n}\"><h2>{shown}</h2>\
             <p><a href=\"{w}\">{workers} workers</a> · {specs} work specs · \
             {f}/min finished, {x}/min failed</p>{chart}",
            n = esc(name),
            shown = esc(shown),
            w = esc(&url("/ui/workers", &[("ns", name)])),
            specs = specs.len(),
            f = fmt_rate(ns_rate.finished),
            x = fmt_rate(ns_rate.failed),
            chart = chart(&ns_series, span, &format!("chart-ns-{}", esc(name))),
        );
        body.push_str(
            "<table class=\"specs\"><thead><tr><th>work spec</th><th>priority</th>\
             <th>weight</th><th>paused</th>",
        );
        for s in STATUSES {
            let _ = write!(body, "<th class=\"num\">{s}</th>");
        }
        body.push_str(
            "<th class=\"num\">total</th><th class=\"num\">finished/min</th>\
             <th class=\"num\">failed/min</th></tr></thead><tbody>",
        );
        for spec in &specs {
            let ws = match ns.work_spec(spec) {
                Ok(ws) => ws,
                // Deleted between the two calls.
                Err(Error::NoSuchWorkSpec { .. }) => continue,
                Err(e) => return Err(e.into()),
            };
            let meta = ws.meta(false)?;
            let counts = counts_of(&ws)?;
            let rate = ctx
                .app
                .ui
                .rates()
                .recent(Some(&(name.clone(), spec.clone())), None);
            let _ = write!(
                body,
                "<tr data-spec=\"{s}\"><td><a href=\"{href}\">{s}</a></td>\
                 <td class=\"num\" data-field=\"priority\">{p}</td>\
                 <td class=\"num\" data-field=\"weight\">{w}</td>\
                 <td data-field=\"paused\">{paused}</td>",
                s = esc(spec),
                href = esc(&spec_href(name, spec, &[])),
                p = meta.priority,
                w = meta.weight,
                paused = if meta.paused {
                    "<span class=\"badge paused\">paused</span>"
                } else {
                    "no"
                },
            );
            let mut total = 0;
            for s in STATUSES {
                let n = counts.get(&s).copied().unwrap_or(0);
                total += n;
                let _ = write!(
                    body,
                    "<td class=\"num count {s}\" data-status=\"{s}\"><a href=\"{href}\">{n}</a></td>",
                    href = esc(&spec_href(name, spec, &[("status", s.as_str())])),
                );
            }
            let _ = write!(
                body,
                "<td class=\"num\" data-status=\"total\">{total}</td>{}</tr>",
                rates_cells(rate)
            );
        }
        body.push_str("</tbody></table></section>");
    }
    body.push_str("</div>");
    Ok(html_page(
        &ctx.layout("namespaces", Vec::new(), true).render(&body),
    ))
}

fn workers_page(coord: &Coordinate, ctx: &Ctx, ns_name: &str) -> Page {
    let ns = find_ns(coord, ns_name)?;
    let now = coord.now();
    let workers = ns.workers()?;
    let total = workers.len();
    let shown: Vec<_> = workers.into_iter().take(MAX_WORKERS).collect();
    let mut ops = Vec::with_capacity(shown.len() * 5);
    for (_, w) in &shown {
        let id = w.id();
        ops.extend([
            Op::WorkerParent { worker: id },
            Op::WorkerMode { worker: id },
            Op::WorkerLastUpdate { worker: id },
            Op::WorkerActive { worker: id },
            Op::ActiveAttempts { worker: id },
        ]);
    }
    let replies = coord.batch(ops)?;
    struct Row {
        mode: String,
        last: Option<DateTime<Utc>>,
        active: bool,
        attempts: usize,
    }
    let mut rows: BTreeMap<String, Row> = BTreeMap::new();
    let mut children: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut roots = Vec::new();
    for ((name, _), r) in shown.iter().zip(replies.chunks(5)) {
        let parent = match &r[0] {
            Ok(Reply::Worker(Some(p))) => Some(p.name.to_string()),
            _ => None,
        };
        let row = Row {
            mode: match &r[1] {
                Ok(Reply::Text(t)) => t.clone(),
                _ => String::new(),
            },
            last: match &r[2] {
                Ok(Reply::Time(t)) => Some(*t),
                _ => None,
            },
            active: matches!(&r[3], Ok(Reply::Bool(true))),
            attempts: match &r[4] {
                Ok(Reply::Attempts(a)) => a.len(),
                _ => 0,
            },
        };
        rows.insert(name.clone(), row);
        match parent {
            Some(p) => children.entry(p).or_default().push(name.clone()),
            None => roots.push(name.clone()),
        }
    }
    // A child whose parent is not shown is drawn as a root.
    for (parent, kids) in &children {
        if !rows.contains_key(parent) {
            roots.extend(kids.iter().cloned());
        }
    }
    roots.sort();
    fn draw(
        out: &mut String,
        name: &str,
        rows: &BTreeMap<String, Row>,
        children: &BTreeMap<String, Vec<String>>,
        now: DateTime<Utc>,
        depth: usize,
    ) {
        let Some(row) = rows.get(name) else { return };
        let _ = write!(
            out,
            "<li data-worker=\"{n}\"><span class=\"worker {state}\">{n}</span> \
             <span class=\"mode\" data-field=\"mode\">mode {mode}</span> · \
             <span data-field=\"heartbeat\">heartbeat {age}</span> · \
             <span data-field=\"attempts\">{a} active attempts</span>{inactive}",
            n = esc(name),
            state = if row.active { "active" } else { "inactive" },
            mode = if row.mode.is_empty() {
                "(none)".to_owned()
            } else {
                esc(&row.mode)
            },
            age = row.last.map_or("never".to_owned(), |t| fmt_age(now, t)),
            a = row.attempts,
            inactive = if row.active { "" } else { " · inactive" },
        );
        if let Some(kids) = children.get(name) {
            if depth < 64 {
                out.push_str("<ul>");
                for k in kids {
                    draw(out, k, rows, children, now, depth + 1);
                }
                out.push_str("</ul>");
            }
        }
        out.push_str("</li>");
    }
    let shown_name = if ns_name.is_empty() {
        "(default)"
    } else {
        ns_name
    };
    let mut body = format!(
        "<div id=\"live\"><h1>Workers of {}</h1><p>{total} workers{}.</p>",
        esc(shown_name),
        if total > MAX_WORKERS {
            format!(", the first {MAX_WORKERS} by name shown")
        } else {
            String::new()
        }
    );
    body.push_str("<ul class=\"tree\" id=\"workers\">");
    for r in &roots {
        draw(&mut body, r, &rows, &children, now, 0);
    }
    body.push_str("</ul></div>");
    let crumbs = vec![(
        format!("{shown_name}: workers"),
        url("/ui/workers", &[("ns", ns_name)]),
    )];
    Ok(html_page(
        &ctx.layout("workers", crumbs, true).render(&body),
    ))
}

/// What the spec page shows.
#[derive(Debug)]
struct SpecView {
    ns: String,
    spec: String,
    filter: Filter,
    after: String,
    limit: usize,
    done: String,
}

impl SpecView {
    fn from_params(q: &HashMap<String, String>) -> Result<SpecView, UiError> {
        let limit = match q.get("limit").map(String::as_str) {
            None | Some("") => PAGE,
            Some(t) => t
                .parse::<usize>()
                .ok()
                .filter(|n| (1..=MAX_PAGE).contains(n))
                .ok_or_else(|| {
                    UiError::bad(format!(
                        "limit {t:?} is not a whole number from 1 to {MAX_PAGE}"
                    ))
                })?,
        };
        Ok(SpecView {
            ns: required(q, "ns")?,
            spec: required(q, "spec")?,
            filter: Filter::from_params(q)?,
            after: q.get("after").cloned().unwrap_or_default(),
            limit,
            done: q.get("done").cloned().unwrap_or_default(),
        })
    }
}

fn spec_page(coord: &Coordinate, ctx: &Ctx, v: &SpecView) -> Page {
    let ns = find_ns(coord, &v.ns)?;
    let ws = ns.work_spec(&v.spec)?;
    let meta = ws.meta(false)?;
    let counts = counts_of(&ws)?;
    let key: SpecKey = (v.ns.clone(), v.spec.clone());
    let (rate, (series, span)) = {
        let r = ctx.app.ui.rates();
        (r.recent(Some(&key), None), r.series_in(Some(&key), None))
    };
    let base = |extra: &[(&str, &str)]| spec_href(&v.ns, &v.spec, extra);
    let mut body = String::new();
    if !v.done.is_empty() {
        let _ = write!(body, "<p class=\"done\" id=\"done\">{}</p>", esc(&v.done));
    }
    let _ = write!(
        body,
        "<h1>Work spec {}</h1><table class=\"meta\" id=\"meta\">\
         <tr><th>priority</th><td data-field=\"priority\">{}</td></tr>\
         <tr><th>weight</th><td data-field=\"weight\">{}</td></tr>\
         <tr><th>paused</th><td data-field=\"paused\">{}</td></tr>\
         <tr><th>max running</th><td>{}</td></tr>\
         <tr><th>max retries</th><td>{}</td></tr>\
         <tr><th>continuous</th><td>{}</td></tr>\
         <tr><th>runtime</th><td>{}</td></tr>\
         <tr><th>then</th><td>{}</td></tr></table>",
        esc(&v.spec),
        meta.priority,
        meta.weight,
        if meta.paused { "yes" } else { "no" },
        if meta.max_running > 0 {
            meta.max_running.to_string()
        } else {
            "no limit".into()
        },
        meta.max_retries,
        if meta.continuous { "yes" } else { "no" },
        esc(&meta.runtime),
        esc(&meta.next_work_spec_name),
    );
    // Actions on the spec.
    if ctx.actions() {
        body.push_str("<div class=\"actions\">");
        let (label, act) = if meta.paused {
            ("resume", "resume")
        } else {
            ("pause", "pause")
        };
        body.push_str(&ctx.action_form(
            label,
            act,
            &[
                ("action", act),
                ("ns", v.ns.as_str()),
                ("spec", v.spec.as_str()),
            ],
            "",
        ));
        body.push_str(&ctx.action_form(
            "set priority",
            "spec-priority",
            &[
                ("action", "spec-priority"),
                ("ns", v.ns.as_str()),
                ("spec", v.spec.as_str()),
            ],
            &format!(
                "<input type=\"number\" name=\"priority\" step=\"1\" value=\"{}\" aria-label=\"spec priority\">",
                meta.priority
            ),
        ));
        let mut filter_fields = vec![("ns", v.ns.as_str()), ("spec", v.spec.as_str())];
        let pairs = v.filter.pairs();
        for (k, val) in &pairs {
            filter_fields.push((*k, val.as_str()));
        }
        let mut retry_fields = vec![("action", "retry-failed")];
        retry_fields.extend(filter_fields.iter().copied());
        body.push_str(&ctx.action_form(
            "retry failed units matching the filter",
            "retry-failed",
            &retry_fields,
            "",
        ));
        let mut delete_fields = vec![("action", "delete-matching")];
        delete_fields.extend(filter_fields.iter().copied());
        body.push_str(&ctx.action_form(
            "delete units matching the filter",
            "delete-matching danger",
            &delete_fields,
            "",
        ));
        body.push_str("</div>");
    }
    // Live part: counts, rates, chart, units.
    body.push_str("<div id=\"live\"><table class=\"counts\" id=\"counts\"><tr>");
    let mut total = 0;
    for s in STATUSES {
        let n = counts.get(&s).copied().unwrap_or(0);
        total += n;
        let _ = write!(
            body,
            "<td class=\"count {s}\" data-status=\"{s}\"><a href=\"{href}\"><b>{n}</b> {s}</a></td>",
            href = esc(&base(&[("status", s.as_str())])),
        );
    }
    let _ = write!(
        body,
        "<td data-status=\"total\"><a href=\"{}\"><b>{total}</b> total</a></td></tr></table>\
         <p class=\"rates\">{} finished/min · {} failed/min</p>{}",
        esc(&base(&[])),
        fmt_rate(rate.finished),
        fmt_rate(rate.failed),
        chart(&series, span, "chart-spec"),
    );
    // Filter form.
    let _ = write!(
        body,
        "<form method=\"get\" action=\"/ui/spec\" class=\"filter\" id=\"filter\">\
         <input type=\"hidden\" name=\"ns\" value=\"{ns}\">\
         <input type=\"hidden\" name=\"spec\" value=\"{spec}\">\
         <label>status <select name=\"status\" id=\"status\">",
        ns = esc(&v.ns),
        spec = esc(&v.spec),
    );
    let _ = write!(
        body,
        "<option value=\"\"{}>any</option>",
        if v.filter.status.is_none() {
            " selected"
        } else {
            ""
        }
    );
    for s in STATUSES {
        let _ = write!(
            body,
            "<option value=\"{s}\"{}>{s}</option>",
            if v.filter.status == Some(s) {
                " selected"
            } else {
                ""
            }
        );
    }
    let _ = write!(
        body,
        "</select></label> <label>name starts with <input name=\"prefix\" id=\"prefix\" value=\"{}\"></label> \
         <label>data key <input name=\"key\" id=\"key\" value=\"{}\"></label> \
         <label>= <input name=\"value\" id=\"value\" value=\"{}\"></label> \
         <button type=\"submit\" id=\"search\">search</button></form>",
        esc(&v.filter.prefix),
        esc(&v.filter.key),
        esc(&v.filter.value),
    );
    let found = page(&ws, &v.filter, &v.after, v.limit, SCAN)?;
    let mut ops = Vec::with_capacity(found.units.len() * 3);
    for u in &found.units {
        ops.extend([
            Op::UnitStatus { unit: u.key() },
            Op::UnitMeta { unit: u.key() },
            Op::NumAttempts { unit: u.key() },
        ]);
    }
    let replies = coord.batch(ops)?;
    let _ = write!(
        body,
        "<p class=\"muted\" id=\"showing\">{} units shown ({}){}{}</p>",
        found.units.len(),
        esc(&v.filter.describe()),
        if v.after.is_empty() {
            String::new()
        } else {
            format!(", after {}", esc(&format!("{:?}", v.after)))
        },
        found.scanned.map_or(String::new(), |n| format!(
            "; this page read {n} units (at most {SCAN} a page)"
        )),
    );
    body.push_str(
        "<table class=\"units\" id=\"units\"><thead><tr><th>name</th><th>status</th>\
         <th class=\"num\">priority</th><th class=\"num\">attempts</th></tr></thead><tbody>",
    );
    for (u, r) in found.units.iter().zip(replies.chunks(3)) {
        let status = match &r[0] {
            Ok(Reply::UnitStatus(s)) => s.as_str(),
            _ => "?",
        };
        let priority = match &r[1] {
            Ok(Reply::UnitMeta(m)) => m.priority.to_string(),
            _ => "?".into(),
        };
        let attempts = match &r[2] {
            Ok(Reply::Count(n)) => n.to_string(),
            _ => "?".into(),
        };
        let _ = write!(
            body,
            "<tr data-unit=\"{n}\"><td><a href=\"{href}\">{n}</a></td>\
             <td class=\"status {status}\">{status}</td><td class=\"num\">{priority}</td>\
             <td class=\"num\">{attempts}</td></tr>",
            n = esc(u.name()),
            href = esc(&unit_href(&v.ns, &v.spec, u.name())),
        );
    }
    body.push_str("</tbody></table>");
    if let Some(next) = &found.next {
        let mut pairs: Vec<(&str, &str)> = Vec::new();
        let fp = v.filter.pairs();
        for (k, val) in &fp {
            pairs.push((*k, val.as_str()));
        }
        pairs.push(("after", next.as_str()));
        let limit = v.limit.to_string();
        if v.limit != PAGE {
            pairs.push(("limit", limit.as_str()));
        }
        let label = if found.scanned.is_some() {
            format!("continue the search after {next:?}")
        } else {
            "next page".to_owned()
        };
        let _ = write!(
            body,
            "<p><a id=\"next\" href=\"{}\">{} →</a></p>",
            esc(&base(&pairs)),
            esc(&label)
        );
    }
    body.push_str("</div>");
    let shown_ns = if v.ns.is_empty() { "(default)" } else { &v.ns };
    let crumbs = vec![
        (shown_ns.to_owned(), "/ui/".to_owned()),
        (v.spec.clone(), base(&[])),
    ];
    Ok(html_page(&ctx.layout(&v.spec, crumbs, true).render(&body)))
}

fn unit_page(
    coord: &Coordinate,
    ctx: &Ctx,
    ns_name: &str,
    spec: &str,
    name: &str,
    done: &str,
) -> Page {
    let ns = find_ns(coord, ns_name)?;
    let ws = ns.work_spec(spec)?;
    let unit = ws.work_unit(name)?;
    let status = unit.status()?;
    let meta = unit.meta()?;
    let data = unit.data()?;
    let active = unit.active_attempt()?;
    let attempts = unit.attempts()?;
    let mut body = String::new();
    if !done.is_empty() {
        let _ = write!(body, "<p class=\"done\" id=\"done\">{}</p>", esc(done));
    }
    let _ = write!(
        body,
        "<h1>Work unit <span id=\"unit-name\">{}</span></h1>\
         <table class=\"meta\"><tr><th>status</th><td class=\"status {s}\" id=\"unit-status\">{s}</td></tr>\
         <tr><th>priority</th><td id=\"unit-priority\">{p}</td></tr>\
         <tr><th>not before</th><td>{nb}</td></tr>\
         <tr><th>attempts</th><td>{n}</td></tr>\
         <tr><th>active attempt</th><td>{a}</td></tr></table>",
        esc(name),
        s = status,
        p = meta.priority,
        nb = meta.not_before.map_or("—".to_owned(), fmt_time),
        n = attempts.len(),
        a = active
            .as_ref()
            .map_or("none".to_owned(), |a| format!("#{}", a.id())),
    );
    if ctx.actions() {
        body.push_str("<div class=\"actions\">");
        let fields = [("ns", ns_name), ("spec", spec), ("unit", name)];
        if status == WorkUnitStatus::Failed {
            let mut f = vec![("action", "retry-unit")];
            f.extend(fields);
            body.push_str(&ctx.action_form("retry", "retry-unit", &f, ""));
        }
        let mut f = vec![("action", "unit-priority")];
        f.extend(fields);
        body.push_str(&ctx.action_form(
            "set priority",
            "unit-priority",
            &f,
            &format!(
                "<input type=\"number\" name=\"priority\" step=\"any\" value=\"{}\" aria-label=\"unit priority\">",
                meta.priority
            ),
        ));
        let mut f = vec![("action", "delete-unit")];
        f.extend(fields);
        body.push_str(&ctx.action_form("delete", "delete-unit danger", &f, ""));
        body.push_str("</div>");
    }
    let _ = write!(
        body,
        "<h2>Data</h2><p class=\"muted\">What <code>data()</code> answers: the active \
         attempt's data while the unit has one, else the unit's own.</p>{}",
        data_table(&data, "unit-data")
    );
    body.push_str("<h2>Attempts</h2>");
    if attempts.is_empty() {
        body.push_str("<p class=\"muted\">No attempts yet.</p>");
    }
    let mut ops = Vec::with_capacity(attempts.len() * 5);
    for a in &attempts {
        let id = a.id();
        ops.extend([
            Op::AttemptStatus { attempt: id },
            Op::AttemptData { attempt: id },
            Op::AttemptStartTime { attempt: id },
            Op::AttemptEndTime { attempt: id },
            Op::AttemptExpiration { attempt: id },
        ]);
    }
    let replies = coord.batch(ops)?;
    body.push_str("<ol class=\"attempts\" id=\"attempts\">");
    for (a, r) in attempts.iter().zip(replies.chunks(5)) {
        let st = match &r[0] {
            Ok(Reply::AttemptStatus(s)) => s.as_str(),
            _ => "?",
        };
        let adata = match &r[1] {
            Ok(Reply::Data(d)) => d.clone(),
            _ => Map::new(),
        };
        let time = |x: &Result<Reply, Error>| match x {
            Ok(Reply::Time(t)) => fmt_time(*t),
            Ok(Reply::MaybeTime(Some(t))) => fmt_time(*t),
            _ => "—".into(),
        };
        let _ = write!(
            body,
            "<li class=\"attempt\" data-attempt=\"{id}\"><p><b>#{id}</b> \
             <span class=\"status {st}\">{st}</span>{is_active} by worker <code>{w}</code> · \
             started {start} · ended {end} · expires {exp}</p>{data}</li>",
            id = a.id(),
            is_active = if active.as_ref().is_some_and(|x| x.id() == a.id()) {
                " (active)"
            } else {
                ""
            },
            w = esc(a.worker().name()),
            start = time(&r[2]),
            end = time(&r[3]),
            exp = time(&r[4]),
            data = data_table(&adata, "attempt-data"),
        );
    }
    body.push_str("</ol>");
    let shown_ns = if ns_name.is_empty() {
        "(default)"
    } else {
        ns_name
    };
    let crumbs = vec![
        (shown_ns.to_owned(), "/ui/".to_owned()),
        (spec.to_owned(), spec_href(ns_name, spec, &[])),
        (name.to_owned(), unit_href(ns_name, spec, name)),
    ];
    Ok(html_page(&ctx.layout(name, crumbs, false).render(&body)))
}

// ---- actions ----

#[derive(Debug)]
enum Act {
    Pause(bool),
    SpecPriority(i64),
    UnitPriority(f64),
    RetryUnit,
    RetryFailed,
    DeleteUnit,
    DeleteMatching,
}

#[derive(Debug)]
struct Action {
    act: Act,
    ns: String,
    spec: String,
    unit: String,
    filter: Filter,
    /// The fields as posted, for the confirmation form.
    fields: Vec<(String, String)>,
}

impl Action {
    fn from_form(form: &HashMap<String, String>) -> Result<Action, UiError> {
        let need = |k: &str| {
            form.get(k)
                .cloned()
                .ok_or_else(|| UiError::bad(format!("the form field {k:?} is missing")))
        };
        let name = need("action")?;
        let act = match name.as_str() {
            "pause" => Act::Pause(true),
            "resume" => Act::Pause(false),
            "spec-priority" => {
                let t = need("priority")?;
                Act::SpecPriority(t.trim().parse().map_err(|_| {
                    UiError::bad(format!("a spec priority is a whole number, not {t:?}"))
                })?)
            }
            "unit-priority" => {
                let t = need("priority")?;
                let p: f64 = t
                    .trim()
                    .parse()
                    .map_err(|_| UiError::bad(format!("a unit priority is a number, not {t:?}")))?;
                Act::UnitPriority(p)
            }
            "retry-unit" => Act::RetryUnit,
            "retry-failed" => Act::RetryFailed,
            "delete-unit" => Act::DeleteUnit,
            "delete-matching" => Act::DeleteMatching,
            other => {
                return Err(UiError::bad(format!(
                    "unknown action {other:?}: one of pause, resume, spec-priority, \
                     unit-priority, retry-unit, retry-failed, delete-unit, delete-matching"
                )))
            }
        };
        let unit = if matches!(act, Act::UnitPriority(_) | Act::RetryUnit | Act::DeleteUnit) {
            need("unit")?
        } else {
            String::new()
        };
        let mut fields: Vec<(String, String)> = form
            .iter()
            .filter(|(k, _)| !matches!(k.as_str(), "csrf" | "confirmed" | "token"))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        fields.sort();
        Ok(Action {
            act,
            ns: need("ns")?,
            spec: need("spec")?,
            unit,
            filter: Filter::from_params(form)?,
            fields,
        })
    }

    fn what(&self) -> String {
        let spec = format!("work spec {:?}", self.spec);
        let unit = format!("work unit {:?} of {spec}", self.unit);
        match &self.act {
            Act::Pause(true) => format!("Pause {spec}?"),
            Act::Pause(false) => format!("Resume {spec}?"),
            Act::SpecPriority(p) => format!("Set the priority of {spec} to {p}?"),
            Act::UnitPriority(p) => format!("Set the priority of {unit} to {p}?"),
            Act::RetryUnit => format!("Retry {unit} (clear its failed attempt, so it is available again)?"),
            Act::RetryFailed => format!(
                "Retry every failed unit of {spec} matching: {} (at most {MAX_BULK})?",
                self.filter.describe()
            ),
            Act::DeleteUnit => format!("Delete {unit}? This cannot be undone."),
            Act::DeleteMatching => format!(
                "Delete every unit of {spec} matching: {} (at most {MAX_BULK})? This cannot be undone.",
                self.filter.describe()
            ),
        }
    }

    fn confirmation(&self, csrf: &str) -> String {
        let mut out = format!(
            "<h1>Confirm</h1><p class=\"confirm\" id=\"question\">{} \
             <span class=\"muted\">(namespace {:?})</span></p>\
             <form method=\"post\" action=\"/ui/action\" class=\"confirm\">\
             <input type=\"hidden\" name=\"csrf\" value=\"{}\">\
             <input type=\"hidden\" name=\"confirmed\" value=\"yes\">",
            esc(&self.what()),
            esc(&self.ns),
            esc(csrf)
        );
        for (k, v) in &self.fields {
            let _ = write!(
                out,
                "<input type=\"hidden\" name=\"{}\" value=\"{}\">",
                esc(k),
                esc(v)
            );
        }
        let back = if self.unit.is_empty() || matches!(self.act, Act::DeleteUnit) {
            spec_href(&self.ns, &self.spec, &[])
        } else {
            unit_href(&self.ns, &self.spec, &self.unit)
        };
        let _ = write!(
            out,
            "<button type=\"submit\" id=\"confirm\">yes, do it</button> \
             <a href=\"{}\" id=\"cancel\">cancel</a></form>",
            esc(&back)
        );
        out
    }

    /// Runs the action through the public API; redirects back with what happened.
    fn run(self, coord: &Coordinate) -> Page {
        let ns = find_ns(coord, &self.ns)?;
        let ws = ns.work_spec(&self.spec)?;
        let done = match &self.act {
            Act::Pause(paused) => {
                let mut meta = ws.meta(false)?;
                meta.paused = *paused;
                ws.set_meta(&meta)?;
                (if *paused { "paused" } else { "resumed" }).to_owned()
            }
            Act::SpecPriority(p) => {
                let mut meta = ws.meta(false)?;
                meta.priority = *p;
                ws.set_meta(&meta)?;
                format!("priority set to {p}")
            }
            Act::UnitPriority(p) => {
                ws.work_unit(&self.unit)?.set_priority(*p)?;
                format!("priority set to {p}")
            }
            Act::RetryUnit => {
                ws.work_unit(&self.unit)?.clear_active_attempt()?;
                "retried: the unit's attempt was cleared".to_owned()
            }
            Act::RetryFailed => {
                let mut filter = self.filter.clone();
                filter.status = Some(WorkUnitStatus::Failed);
                let names = matching(&ws, &filter)?;
                let ops: Vec<Op> = names
                    .iter()
                    .map(|u| Op::ClearActiveAttempt { unit: u.key() })
                    .collect();
                let n = coord.batch(ops)?.into_iter().filter(Result::is_ok).count();
                format!("retried {n} failed units")
            }
            Act::DeleteUnit => {
                let q = WorkUnitQuery {
                    names: Some(vec![self.unit.clone()]),
                    ..WorkUnitQuery::default()
                };
                let n = ws.delete_work_units(&q)?;
                format!("deleted {n} unit {:?}", self.unit)
            }
            Act::DeleteMatching => {
                let n = if self.filter.prefix.is_empty() && self.filter.key.is_empty() {
                    ws.delete_work_units(&WorkUnitQuery {
                        statuses: self.filter.status.map(|s| vec![s]),
                        ..WorkUnitQuery::default()
                    })?
                } else {
                    let names: Vec<String> = matching(&ws, &self.filter)?
                        .iter()
                        .map(|u| u.name().to_owned())
                        .collect();
                    let mut n = 0;
                    for chunk in names.chunks(1000) {
                        n += ws.delete_work_units(&WorkUnitQuery {
                            names: Some(chunk.to_vec()),
                            statuses: self.filter.status.map(|s| vec![s]),
                            ..WorkUnitQuery::default()
                        })?;
                    }
                    n
                };
                format!("deleted {n} units")
            }
        };
        let to = if self.unit.is_empty() || matches!(self.act, Act::DeleteUnit) {
            spec_href(&self.ns, &self.spec, &[("done", &done)])
        } else {
            url(
                "/ui/unit",
                &[
                    ("ns", &self.ns),
                    ("spec", &self.spec),
                    ("unit", &self.unit),
                    ("done", &done),
                ],
            )
        };
        tracing::info!(ns = %self.ns, spec = %self.spec, unit = %self.unit, action = ?self.act, %done, "dashboard action");
        Ok(redirect(&to))
    }
}

/// Every unit passing `filter`, at most [`MAX_BULK`], page by page.
fn matching(ws: &WorkSpec, filter: &Filter) -> Result<Vec<WorkUnit>, UiError> {
    let mut out = Vec::new();
    let mut after = String::new();
    loop {
        let p = page(ws, filter, &after, MAX_PAGE, SCAN)?;
        out.extend(p.units);
        match p.next {
            Some(n) if out.len() < MAX_BULK => after = n,
            _ => break,
        }
    }
    out.truncate(MAX_BULK);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn params_refuse_unknown_and_repeated() {
        assert!(params("ns=a&spec=b", &["ns", "spec"]).is_ok());
        let e = params("ns=a&bogus=1", &["ns"]).unwrap_err();
        assert_eq!(e.status, StatusCode::BAD_REQUEST);
        assert!(e.message.contains("\"bogus\""), "{}", e.message);
        let e = params("ns=a&ns=b", &["ns"]).unwrap_err();
        assert!(e.message.contains("twice"), "{}", e.message);
    }

    #[test]
    fn statuses_parse() {
        assert_eq!(parse_status("").unwrap(), None);
        assert_eq!(parse_status("any").unwrap(), None);
        assert_eq!(
            parse_status("failed").unwrap(),
            Some(WorkUnitStatus::Failed)
        );
        assert!(parse_status("broken").is_err());
    }

    #[test]
    fn same_origin_rules() {
        let mut h = HeaderMap::new();
        h.insert(header::HOST, HeaderValue::from_static("127.0.0.1:5980"));
        assert!(same_origin(&h).is_ok());
        h.insert(
            header::ORIGIN,
            HeaderValue::from_static("http://127.0.0.1:5980"),
        );
        assert!(same_origin(&h).is_ok());
        h.insert(
            header::ORIGIN,
            HeaderValue::from_static("http://evil.example"),
        );
        assert!(same_origin(&h).is_err());
        h.remove(header::ORIGIN);
        h.insert("sec-fetch-site", HeaderValue::from_static("cross-site"));
        assert!(same_origin(&h).is_err());
    }

    fn spec_with_units(n: usize) -> WorkSpec {
        let coord = Coordinate::new();
        let ns = coord.namespace("n").unwrap();
        let ws = ns.set_work_spec(coordinate::map([("name", "s")])).unwrap();
        let items = (0..n)
            .map(|i| coordinate::AddWorkUnitItem {
                key: format!("u{i:03}"),
                data: coordinate::map([("lang", if i % 3 == 0 { "en" } else { "fr" })]),
                meta: coordinate::WorkUnitMeta::default(),
            })
            .collect();
        ws.add_work_units(items).unwrap();
        ws.add_work_unit("u0", Map::new(), coordinate::WorkUnitMeta::default())
            .unwrap();
        ws
    }

    #[test]
    fn paging_by_name() {
        let ws = spec_with_units(120);
        let f = Filter::default();
        let p = page(&ws, &f, "", 50, SCAN).unwrap();
        assert_eq!(p.units.len(), 50);
        assert_eq!(p.units[0].name(), "u0");
        let next = p.next.unwrap();
        let p2 = page(&ws, &f, &next, 50, SCAN).unwrap();
        assert!(p2.units[0].name() > next.as_str());
        let p3 = page(&ws, &f, p2.next.as_deref().unwrap(), 50, SCAN).unwrap();
        assert_eq!(p3.units.len(), 21);
        assert!(p3.next.is_none());
    }

    #[test]
    fn prefix_includes_the_prefix_itself() {
        let ws = spec_with_units(120);
        let f = Filter {
            prefix: "u0".into(),
            ..Filter::default()
        };
        let p = page(&ws, &f, "", 500, SCAN).unwrap();
        // "u0" itself and u000..u099.
        assert_eq!(p.units.len(), 101);
        assert!(p.units.iter().all(|u| u.name().starts_with("u0")));
        assert!(p.next.is_none());
    }

    #[test]
    fn data_search_is_bounded() {
        let ws = spec_with_units(120);
        let f = Filter {
            key: "lang".into(),
            value: "en".into(),
            ..Filter::default()
        };
        // 10 units read per page: u0 (no data), u000..u008 → u000, u003, u006.
        let p = page(&ws, &f, "", 50, 10).unwrap();
        assert_eq!(p.scanned, Some(10));
        let names: Vec<&str> = p.units.iter().map(WorkUnit::name).collect();
        assert_eq!(names, ["u000", "u003", "u006"]);
        assert_eq!(p.next.as_deref(), Some("u008"));
        let all = matching(&ws, &f).unwrap();
        assert_eq!(all.len(), 40);
    }
}
