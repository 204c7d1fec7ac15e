//! The daemon: configuration, routes, the request pipeline and shutdown.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, delete, get, post};
use axum::Router;
use chrono::{DateTime, Utc};
use coordinate::backend::{Op, Reply};
use coordinate::Error;

use crate::metrics::{Counted, Metrics};
use crate::store::{Store, StoreOpener, Stores, TestStoreError};
use crate::wire::{self, Problem, MOCK_TIME_HEADER, TEST_SEED_HEADER, TEST_STORE_HEADER};

/// How a daemon runs.
#[derive(Clone, Debug)]
pub struct Config {
    /// The address to listen on (port 0: any free port).
    pub listen: SocketAddr,
    /// The URL of the main store (`memory:`, `sqlite:...`, any registered scheme).
    pub store_url: String,
    /// The bearer token every request but `/healthz` must carry (`None`:
    /// no token; allowed only on a loopback address).
    pub token: Option<String>,
    /// Test mode: honour `X-Coordinate-Mock-Time` and serve test stores.
    pub test_mode: bool,
    /// The URL test stores open, `{name}` standing for the store's name.
    pub test_store_url: String,
    /// Most test stores open at once.
    pub max_test_stores: usize,
    /// The largest request body accepted (larger: 413).
    pub max_body_bytes: usize,
    /// The deepest nesting of lists and maps accepted in a body (deeper: 400).
    pub max_depth: usize,
    /// How long a client may take to send a request body (longer: 408).
    pub body_timeout: Duration,
    /// How long a client may take to send a request's headers, counted from
    /// the connection's opening or from the previous answer on a kept-alive
    /// connection; past it the connection is closed (slow or idle clients
    /// do not hold connections forever).
    pub client_timeout: Duration,
    /// Threads serving connections ([`Daemon::start`] and `coordinated`).
    /// One by default: a memory store's calls run on it, and one thread
    /// answers more round trips than two that wake each other and share
    /// the engine's lock (BENCHMARKS.md); the calls of a blocking store run
    /// on the blocking pool whatever this is.
    pub worker_threads: usize,
    /// Most threads running store calls at once (the blocking pool).
    pub blocking_threads: usize,
    /// Opens store URLs (by default [`crate::open_store`]).
    pub opener: StoreOpener,
    /// The dashboard (`/ui/`) shows no actions and refuses them.
    pub ui_read_only: bool,
    /// How often the dashboard samples the store's counts for its rates.
    pub ui_sample_every: Duration,
}

impl Config {
    /// The tokio runtime the daemon runs on: `worker_threads` for
    /// connections, at most `blocking_threads` for store calls.
    pub fn runtime(&self) -> io::Result<tokio::runtime::Runtime> {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(self.worker_threads.max(1))
            .max_blocking_threads(self.blocking_threads.max(1))
            .thread_name("coordinated")
            .enable_all()
            .build()
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: SocketAddr::from(([127, 0, 0, 1], 5980)),
            store_url: "sqlite:coordinate.db".into(),
            token: None,
            test_mode: false,
            test_store_url: "memory:".into(),
            max_test_stores: 10_000,
            max_body_bytes: 16 << 20,
            max_depth: 64,
            body_timeout: Duration::from_secs(30),
            client_timeout: Duration::from_secs(30),
            worker_threads: 1,
            blocking_threads: 64,
            opener: crate::open_store,
            ui_read_only: false,
            ui_sample_every: Duration::from_secs(10),
        }
    }
}

/// Why a daemon did not start.
#[derive(Debug)]
pub enum StartError {
    /// A non-loopback address without a token.
    TokenRequired(SocketAddr),
    /// The store could not be opened.
    Store(Error),
    /// The address could not be bound, or the runtime not built.
    Io(io::Error),
}

impl std::fmt::Display for StartError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StartError::TokenRequired(addr) => write!(
                f,
                "listening on {addr}, which is not a loopback address, requires --token-file"
            ),
            StartError::Store(e) => write!(f, "cannot open the store: {e}"),
            StartError::Io(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for StartError {}

/// Everything a request handler shares.
#[derive(Debug)]
pub(crate) struct App {
    pub(crate) stores: Stores,
    pub(crate) metrics: Metrics,
    token: Option<Vec<u8>>,
    pub(crate) max_body_bytes: usize,
    pub(crate) max_depth: usize,
    body_timeout: Duration,
    client_timeout: Duration,
    pub(crate) ui: crate::ui::UiState,
}

/// A prepared daemon: its store is open, it serves once given a listener.
#[derive(Debug)]
pub struct Prepared {
    app: Arc<App>,
}

impl Prepared {
    /// Checks `config` and opens its store.
    pub fn new(config: &Config) -> Result<Prepared, StartError> {
        if config.token.is_none() && !config.listen.ip().is_loopback() {
            return Err(StartError::TokenRequired(config.listen));
        }
        let main = Store::open(config.opener, &config.store_url, config.test_mode, None)
            .map_err(StartError::Store)?;
        let stores = Stores::new(
            main,
            config.opener,
            config.test_mode,
            &config.test_store_url,
            config.max_test_stores,
        );
        Ok(Prepared {
            app: Arc::new(App {
                stores,
                metrics: Metrics::default(),
                token: config.token.as_ref().map(|t| t.as_bytes().to_vec()),
                max_body_bytes: config.max_body_bytes,
                max_depth: config.max_depth,
                body_timeout: config.body_timeout,
                client_timeout: config.client_timeout,
                ui: crate::ui::UiState::new(
                    config.token.as_deref(),
                    config.ui_read_only,
                    config.ui_sample_every,
                )
                .map_err(StartError::Io)?,
            }),
        })
    }

    /// Serves on `listener` until `shutdown` completes, then finishes the
    /// requests in flight and closes the stores.
    pub async fn serve(
        self,
        listener: tokio::net::TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> io::Result<()> {
        let app = self.app;
        // hyper's HTTP/1.1 server directly (what `axum::serve` wraps), for
        // the header read timeout, which needs a timer `axum::serve` does not
        // give it.
        let service = hyper_util::service::TowerToHyperService::new(router(app.clone()));
        let mut http = hyper::server::conn::http1::Builder::new();
        http.timer(hyper_util::rt::TokioTimer::new())
            .header_read_timeout(app.client_timeout)
            .keep_alive(true);
        let graceful = hyper_util::server::graceful::GracefulShutdown::new();
        let sampler = tokio::spawn(crate::ui::sample(app.clone()));
        tokio::pin!(shutdown);
        loop {
            let (tcp, peer) = tokio::select! {
                biased;
                () = &mut shutdown => break,
                accepted = listener.accept() => match accepted {
                    Ok(pair) => pair,
                    Err(e) => {
                        // Out of file descriptors, say: wait, then go on.
                        tracing::warn!(error = %e, "cannot accept a connection");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                },
            };
            // Answers are small and latency matters: no Nagle delay.
            if let Err(e) = tcp.set_nodelay(true) {
                tracing::debug!(error = %e, "cannot set TCP_NODELAY");
            }
            let connection = graceful
                .watch(http.serve_connection(hyper_util::rt::TokioIo::new(tcp), service.clone()));
            tokio::spawn(async move {
                if let Err(e) = connection.await {
                    tracing::debug!(%peer, error = %e, "a connection ended with an error");
                }
            });
        }
        drop(listener);
        // Idle connections close now, busy ones after their answer.
        graceful.shutdown().await;
        sampler.abort();
        tracing::info!("stopped accepting; closing the stores");
        let closing = app.clone();
        let closed = tokio::task::spawn_blocking(move || closing.stores.close_all())
            .await
            .map_err(io::Error::other)?;
        closed.map_err(|e| io::Error::other(e.to_string()))
    }
}

/// A daemon running on its own threads, for tests and embedding.
#[derive(Debug)]
pub struct Daemon {
    addr: SocketAddr,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<io::Result<()>>>,
}

impl Daemon {
    /// Starts a daemon (listening before this returns) on its own runtime.
    pub fn start(config: Config) -> Result<Daemon, StartError> {
        let prepared = Prepared::new(&config)?;
        let runtime = config.runtime().map_err(StartError::Io)?;
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind(config.listen))
            .map_err(StartError::Io)?;
        let addr = listener.local_addr().map_err(StartError::Io)?;
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("coordinated".into())
            .spawn(move || {
                runtime.block_on(prepared.serve(listener, async {
                    let _ = rx.await;
                }))
            })
            .map_err(StartError::Io)?;
        Ok(Daemon {
            addr,
            shutdown: Some(tx),
            thread: Some(thread),
        })
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Its base URL, `http://127.0.0.1:PORT/`.
    pub fn url(&self) -> String {
        format!("http://{}/", self.addr)
    }

    /// Stops accepting, finishes the requests in flight, closes the stores.
    pub fn stop(mut self) -> io::Result<()> {
        self.stop_inner()
    }

    fn stop_inner(&mut self) -> io::Result<()> {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        match self.thread.take() {
            Some(t) => t
                .join()
                .unwrap_or_else(|_| Err(io::Error::other("the daemon thread panicked"))),
            None => Ok(()),
        }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.stop_inner();
    }
}

/// Which error body a route answers with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Flavor {
    /// MessagePack [`Problem`] (`/v1`, `/metrics`, `/healthz`).
    V1,
    /// Go coordinate's JSON ErrorResponse.
    Rest,
}

impl Flavor {
    pub(crate) fn of_path(path: &str) -> Flavor {
        if path.starts_with("/v1/") || path == "/v1" || path == "/metrics" || path == "/healthz" {
            Flavor::V1
        } else {
            Flavor::Rest
        }
    }
}

/// A request the daemon did not run: its status, code and message.
#[derive(Debug)]
pub(crate) struct Refusal {
    pub(crate) flavor: Flavor,
    pub(crate) status: StatusCode,
    pub(crate) code: &'static str,
    pub(crate) message: String,
}

impl Refusal {
    pub(crate) fn new(
        flavor: Flavor,
        status: StatusCode,
        code: &'static str,
        message: impl Into<String>,
    ) -> Refusal {
        Refusal {
            flavor,
            status,
            code,
            message: message.into(),
        }
    }

    pub(crate) fn bad_request(flavor: Flavor, message: impl Into<String>) -> Refusal {
        Refusal::new(flavor, StatusCode::BAD_REQUEST, "BadRequest", message)
    }

    pub(crate) fn internal(flavor: Flavor, message: impl Into<String>) -> Refusal {
        Refusal::new(
            flavor,
            StatusCode::INTERNAL_SERVER_ERROR,
            "Internal",
            message,
        )
    }
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        match self.flavor {
            Flavor::V1 => {
                let body = wire::encode(&Problem::new(self.code, self.message)).unwrap_or_default();
                (
                    self.status,
                    [(header::CONTENT_TYPE, wire::MEDIA_TYPE)],
                    body,
                )
                    .into_response()
            }
            Flavor::Rest => {
                let code = match self.code {
                    "Unauthorized" => "Unauthorized",
                    "Internal" => "panic",
                    _ => "error",
                };
                crate::rest::error_response(self.status, code, &self.message, None)
            }
        }
    }
}

/// Where a request goes and at what mock time.
#[derive(Clone, Debug)]
pub(crate) struct Target {
    pub(crate) store: Arc<Store>,
    pub(crate) mock_time: Option<DateTime<Utc>>,
}

impl App {
    /// The store and mock time a request's headers ask for.
    pub(crate) fn target(&self, headers: &HeaderMap, flavor: Flavor) -> Result<Target, Refusal> {
        let text = |name: &str| -> Result<Option<&str>, Refusal> {
            headers
                .get(name)
                .map(|v| {
                    v.to_str().map_err(|_| {
                        Refusal::bad_request(flavor, format!("header {name} is not text"))
                    })
                })
                .transpose()
        };
        let test_only = |name: &str| {
            Refusal::new(
                flavor,
                StatusCode::BAD_REQUEST,
                "TestModeOnly",
                format!(
                    "header {name} is honoured only in test mode (coordinated --test-mock-clock)"
                ),
            )
        };
        let mock_time = match text(MOCK_TIME_HEADER)? {
            None => None,
            Some(_) if !self.stores.test_mode() => return Err(test_only(MOCK_TIME_HEADER)),
            Some(t) => Some(
                DateTime::parse_from_rfc3339(t.trim())
                    .map_err(|e| {
                        Refusal::bad_request(
                            flavor,
                            format!("{MOCK_TIME_HEADER} {t:?} is not an RFC 3339 time: {e}"),
                        )
                    })?
                    .with_timezone(&Utc),
            ),
        };
        match text(TEST_STORE_HEADER)? {
            None => Ok(Target {
                store: self.stores.main.clone(),
                mock_time,
            }),
            Some(_) if !self.stores.test_mode() => Err(test_only(TEST_STORE_HEADER)),
            Some(name) => {
                let seed = match text(TEST_SEED_HEADER)? {
                    None => None,
                    Some(s) => Some(s.trim().parse::<u64>().map_err(|_| {
                        Refusal::bad_request(
                            flavor,
                            format!("{TEST_SEED_HEADER} {s:?} is not an unsigned integer"),
                        )
                    })?),
                };
                let store = self
                    .stores
                    .test_store(name, seed)
                    .map_err(|e| test_store_refusal(flavor, e))?;
                Ok(Target { store, mock_time })
            }
        }
    }

    /// The body, within the size limit and the body timeout.
    pub(crate) async fn read_body(&self, body: Body, flavor: Flavor) -> Result<Bytes, Refusal> {
        let too_large = || {
            Refusal::new(
                flavor,
                StatusCode::PAYLOAD_TOO_LARGE,
                "PayloadTooLarge",
                format!(
                    "the request body is larger than {} bytes",
                    self.max_body_bytes
                ),
            )
        };
        let read = axum::body::to_bytes(body, self.max_body_bytes);
        match tokio::time::timeout(self.body_timeout, read).await {
            Err(_) => Err(Refusal::new(
                flavor,
                StatusCode::REQUEST_TIMEOUT,
                "Timeout",
                format!("the request body took longer than {:?}", self.body_timeout),
            )),
            Ok(Ok(bytes)) => Ok(bytes),
            Ok(Err(e)) => {
                let limit = std::error::Error::source(&e)
                    .is_some_and(|s| s.is::<http_body_util::LengthLimitError>());
                if limit {
                    Err(too_large())
                } else {
                    Err(Refusal::bad_request(
                        flavor,
                        format!("cannot read the request body: {e}"),
                    ))
                }
            }
        }
    }
}

fn test_store_refusal(flavor: Flavor, e: TestStoreError) -> Refusal {
    let (status, code) = match &e {
        TestStoreError::NotTestMode => (StatusCode::BAD_REQUEST, "TestModeOnly"),
        TestStoreError::BadName => (StatusCode::BAD_REQUEST, "BadRequest"),
        TestStoreError::TooMany(_) => (StatusCode::SERVICE_UNAVAILABLE, "Unavailable"),
        TestStoreError::Open(_) => (StatusCode::SERVICE_UNAVAILABLE, "Unavailable"),
    };
    Refusal::new(flavor, status, code, e.to_string())
}

/// The largest request body whose call runs on the serving thread when the
/// store does not block; a larger one (adding 10,000 units, say) may take
/// milliseconds and goes to the blocking pool, so that it does not hold up
/// the other connections of that thread.
pub(crate) const INLINE_BODY_BYTES: usize = 64 << 10;

/// Runs store work: on the thread serving the connection when `inline`
/// (a store whose calls do not block, [`Store::blocking`], and a small
/// request: no hand-off to another thread and back), on the blocking pool
/// otherwise. A panic is logged and answered 500, and the daemon goes on.
pub(crate) async fn store_work<T: Send + 'static>(
    flavor: Flavor,
    inline: bool,
    f: impl FnOnce() -> Result<T, Refusal> + Send + 'static,
) -> Result<T, Refusal> {
    if inline {
        return std::panic::catch_unwind(std::panic::AssertUnwindSafe(f))
            .unwrap_or_else(|payload| Err(panicked(flavor, &*payload)));
    }
    blocking(flavor, f).await
}

fn panicked(flavor: Flavor, payload: &(dyn std::any::Any + Send)) -> Refusal {
    let text = panic_text(payload);
    tracing::error!(panic = %text, "a request handler panicked");
    Refusal::internal(flavor, format!("the server panicked: {text}"))
}

/// Runs blocking store work on the blocking pool; a panic there is logged
/// and answered 500, and the daemon goes on.
pub(crate) async fn blocking<T: Send + 'static>(
    flavor: Flavor,
    f: impl FnOnce() -> Result<T, Refusal> + Send + 'static,
) -> Result<T, Refusal> {
    match tokio::task::spawn_blocking(f).await {
        Ok(result) => result,
        Err(e) if e.is_panic() => Err(panicked(flavor, &*e.into_panic())),
        Err(e) => Err(Refusal::internal(
            flavor,
            format!("the request was cancelled: {e}"),
        )),
    }
}

fn panic_text(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "(no message)".to_owned()
    }
}

/// The route label a handler leaves for the latency histogram.
#[derive(Clone, Copy, Debug)]
pub(crate) struct RouteLabel(pub(crate) &'static str);

fn router(app: Arc<App>) -> Router {
    let v1_not_allowed = || async {
        Refusal::new(
            Flavor::V1,
            StatusCode::METHOD_NOT_ALLOWED,
            "MethodNotAllowed",
            "method not allowed on this route",
        )
    };
    Router::new()
        .route("/v1/call", post(v1_call).fallback(v1_not_allowed))
        .route("/v1/batch", post(v1_batch).fallback(v1_not_allowed))
        .route("/v1/reseed", post(v1_reseed).fallback(v1_not_allowed))
        .route(
            "/v1/test-store",
            delete(v1_drop_test_store).fallback(v1_not_allowed),
        )
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .route("/ui", any(crate::ui::handle))
        .route("/ui/", any(crate::ui::handle))
        .route("/ui/{*page}", any(crate::ui::handle))
        .fallback(fallback)
        .layer(middleware::from_fn_with_state(app.clone(), authorize))
        .layer(middleware::from_fn_with_state(app.clone(), track))
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(
            |payload: Box<dyn std::any::Any + Send>| {
                let text = panic_text(&*payload);
                tracing::error!(panic = %text, "a request handler panicked");
                Refusal::internal(Flavor::Rest, format!("the server panicked: {text}"))
                    .into_response()
            },
        ))
        .with_state(app)
}

async fn fallback(State(app): State<Arc<App>>, request: Request) -> Response {
    let path = request.uri().path().to_owned();
    if Flavor::of_path(&path) == Flavor::V1 {
        return Refusal::new(
            Flavor::V1,
            StatusCode::NOT_FOUND,
            "NotFound",
            format!("no route {path}"),
        )
        .into_response();
    }
    crate::rest::handle(app, request).await
}

/// Latency by route, for `/metrics`.
async fn track(State(app): State<Arc<App>>, request: Request, next: Next) -> Response {
    let start = Instant::now();
    let matched = request.extensions().get::<MatchedPath>().cloned();
    let response = next.run(request).await;
    let route = match (&matched, response.extensions().get::<RouteLabel>()) {
        (_, Some(label)) => label.0,
        (Some(m), None) => m.as_str(),
        (None, None) => "unmatched",
    };
    app.metrics.observe(route, start.elapsed());
    response
}

/// The bearer token check (every route but `/healthz`).
async fn authorize(State(app): State<Arc<App>>, request: Request, next: Next) -> Response {
    if let Some(token) = &app.token {
        let path = request.uri().path();
        // The dashboard checks the token itself (header or session cookie).
        if path != "/healthz" && path != "/ui" && !path.starts_with("/ui/") {
            let given = request
                .headers()
                .get(header::AUTHORIZATION)
                .and_then(|v| v.as_bytes().strip_prefix(b"Bearer "))
                .unwrap_or_default();
            if !constant_time_eq(given, token) {
                tracing::warn!(path, "refused a request without a valid token");
                let mut response = Refusal::new(
                    Flavor::of_path(path),
                    StatusCode::UNAUTHORIZED,
                    "Unauthorized",
                    Error::Unauthorized.to_string(),
                )
                .into_response();
                response.headers_mut().insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Bearer realm=\"coordinated\""),
                );
                return response;
            }
        }
    }
    next.run(request).await
}

/// Compares in time that depends only on the lengths.
pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    let mut diff = u8::from(a.len() != b.len());
    for i in 0..a.len().max(b.len()) {
        let x = a.get(i).copied().unwrap_or(0);
        let y = b.get(i).copied().unwrap_or(0xff);
        diff |= x ^ y;
    }
    diff == 0
}

fn check_media_type(headers: &HeaderMap) -> Result<(), Refusal> {
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("application/octet-stream");
    let media = ct.split(';').next().unwrap_or("").trim();
    if media.eq_ignore_ascii_case(wire::MEDIA_TYPE)
        || media.eq_ignore_ascii_case("application/x-msgpack")
    {
        Ok(())
    } else {
        Err(Refusal::new(
            Flavor::V1,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "UnsupportedMediaType",
            format!("the body must be {} (got {ct:?})", wire::MEDIA_TYPE),
        ))
    }
}

fn msgpack(bytes: Vec<u8>) -> Response {
    ([(header::CONTENT_TYPE, wire::MEDIA_TYPE)], bytes).into_response()
}

async fn v1_prelude(
    app: &App,
    headers: &HeaderMap,
    body: Body,
) -> Result<(Target, Bytes), Refusal> {
    check_media_type(headers)?;
    let target = app.target(headers, Flavor::V1)?;
    let bytes = app.read_body(body, Flavor::V1).await?;
    Ok((target, bytes))
}

async fn v1_call(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, Refusal> {
    let (target, bytes) = v1_prelude(&app, &headers, body).await?;
    let inline = !target.store.blocking() && bytes.len() <= INLINE_BODY_BYTES;
    let encoded = store_work(Flavor::V1, inline, move || {
        let op: Op = wire::decode(&bytes, app.max_depth + 8)
            .map_err(|e| Refusal::bad_request(Flavor::V1, format!("not an operation: {e}")))?;
        let kind = Counted::of(&op);
        let result = target.store.run(target.mock_time, |b| b.call(op));
        app.metrics.count(kind, &result);
        wire::encode(&result).map_err(|e| Refusal::internal(Flavor::V1, e))
    })
    .await?;
    Ok(msgpack(encoded))
}

async fn v1_batch(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, Refusal> {
    let (target, bytes) = v1_prelude(&app, &headers, body).await?;
    let inline = !target.store.blocking() && bytes.len() <= INLINE_BODY_BYTES;
    let encoded = store_work(Flavor::V1, inline, move || {
        let ops: Vec<Op> = wire::decode(&bytes, app.max_depth + 8).map_err(|e| {
            Refusal::bad_request(Flavor::V1, format!("not a list of operations: {e}"))
        })?;
        let kinds: Vec<Counted> = ops.iter().map(Counted::of).collect();
        let result = target.store.run(target.mock_time, |b| b.batch(ops));
        if let Ok(results) = &result {
            for (kind, r) in kinds.into_iter().zip(results) {
                app.metrics.count(kind, r);
            }
        }
        wire::encode(&result).map_err(|e| Refusal::internal(Flavor::V1, e))
    })
    .await?;
    Ok(msgpack(encoded))
}

async fn v1_reseed(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, Refusal> {
    let (target, bytes) = v1_prelude(&app, &headers, body).await?;
    if !app.stores.test_mode() {
        return Err(Refusal::new(
            Flavor::V1,
            StatusCode::BAD_REQUEST,
            "TestModeOnly",
            "reseeding the server's scheduler is allowed only in test mode",
        ));
    }
    let seed: u64 = wire::decode(&bytes, 2)
        .map_err(|e| Refusal::bad_request(Flavor::V1, format!("not a seed: {e}")))?;
    let encoded = blocking(Flavor::V1, move || {
        target.store.run(target.mock_time, |b| b.reseed(seed));
        let done: Result<Reply, Error> = Ok(Reply::Done);
        wire::encode(&done).map_err(|e| Refusal::internal(Flavor::V1, e))
    })
    .await?;
    Ok(msgpack(encoded))
}

async fn v1_drop_test_store(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
) -> Result<Response, Refusal> {
    let name = headers
        .get(TEST_STORE_HEADER)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| {
            Refusal::bad_request(
                Flavor::V1,
                format!("the {TEST_STORE_HEADER} header is missing"),
            )
        })?
        .to_owned();
    let encoded = blocking(Flavor::V1, move || {
        let existed = app
            .stores
            .drop_test_store(&name)
            .map_err(|e| test_store_refusal(Flavor::V1, e))?;
        let reply: Result<Reply, Error> = Ok(Reply::Bool(existed));
        wire::encode(&reply).map_err(|e| Refusal::internal(Flavor::V1, e))
    })
    .await?;
    Ok(msgpack(encoded))
}

async fn healthz() -> Response {
    (
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        "ok\n",
    )
        .into_response()
}

async fn metrics(State(app): State<Arc<App>>) -> Result<Response, Refusal> {
    let text = blocking(Flavor::V1, move || {
        let summary = app.stores.main.run(None, |b| b.call(Op::Summarize));
        let summary = match summary {
            Ok(Reply::Summary(s)) => Some(s),
            Ok(other) => {
                tracing::warn!(reply = ?other, "the store answered Summarize oddly");
                None
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot summarize the store for /metrics");
                None
            }
        };
        Ok(app
            .metrics
            .render(summary.as_ref(), app.stores.test_store_count()))
    })
    .await?;
    Ok((
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        text,
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_comparison() {
        assert!(constant_time_eq(b"secret", b"secret"));
        assert!(!constant_time_eq(b"secret", b"secreT"));
        assert!(!constant_time_eq(b"secret", b"secret2"));
        assert!(!constant_time_eq(b"", b"x"));
        assert!(constant_time_eq(b"", b""));
    }

    #[test]
    fn flavors() {
        assert_eq!(Flavor::of_path("/v1/call"), Flavor::V1);
        assert_eq!(Flavor::of_path("/namespace/-"), Flavor::Rest);
        assert_eq!(Flavor::of_path("/"), Flavor::Rest);
    }
}
