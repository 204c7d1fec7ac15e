//! `coordinated`: the Coordinate HTTP daemon.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use coordinate_server::{Config, Prepared};

/// Serves a Coordinate store over HTTP: its own protocol on /v1 and Go
/// coordinate's REST protocol on the same port.
#[derive(Debug, Parser)]
#[command(name = "coordinated", version)]
struct Args {
    /// Address to listen on (port 0: any free port; the bound address is
    /// printed on stdout as `listening on ADDR`).
    #[arg(long, default_value = "127.0.0.1:5980")]
    listen: SocketAddr,
    /// The store: memory:, sqlite:PATH, or any URL a registered scheme opens.
    #[arg(long, default_value = "sqlite:coordinate.db")]
    store: String,
    /// Log filter (error, warn, info, debug, trace, or a tracing filter).
    #[arg(long, default_value = "info")]
    log_level: String,
    /// A file holding the bearer token every request must carry (required
    /// to listen on a non-loopback address).
    #[arg(long)]
    token_file: Option<PathBuf>,
    /// Test mode: honour X-Coordinate-Mock-Time and serve isolated test
    /// stores (X-Coordinate-Test-Store). Never in production.
    #[arg(long)]
    test_mock_clock: bool,
    /// Test mode: the URL a test store opens, `{name}` standing for its name.
    #[arg(long, default_value = "memory:")]
    test_store_url: String,
    /// Test mode: most test stores open at once.
    #[arg(long, default_value_t = 10_000)]
    max_test_stores: usize,
    /// Largest request body in bytes (larger: 413).
    #[arg(long, default_value_t = 16 << 20)]
    max_body_bytes: usize,
    /// Deepest nesting of lists and maps in a request body (deeper: 400).
    #[arg(long, default_value_t = 64)]
    max_depth: usize,
    /// Seconds a client may take to send a request body (longer: 408).
    #[arg(long, default_value_t = 30)]
    body_timeout: u64,
    /// Seconds a client may take to send a request's headers, from the
    /// connection's opening or from the previous answer on a kept-alive
    /// connection (longer: the connection is closed).
    #[arg(long, default_value_t = 30)]
    client_timeout: u64,
    /// Threads serving connections (a memory store's calls run on them).
    #[arg(long, default_value_t = 1)]
    threads: usize,
    /// Most threads running store calls at once.
    #[arg(long, default_value_t = 64)]
    blocking_threads: usize,
    /// The dashboard (/ui/) shows the store but changes nothing.
    #[arg(long)]
    ui_read_only: bool,
    /// Seconds between the dashboard's samples of the store's counts (its
    /// finished/failed rates; one hour of samples is kept).
    #[arg(long, default_value_t = 10.0)]
    ui_sample_seconds: f64,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let filter = tracing_subscriber::EnvFilter::try_new(&args.log_level)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
    match run(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e}");
            eprintln!("coordinated: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: Args) -> Result<(), Box<dyn std::error::Error>> {
    coordinate_server::install_stores();
    let token = match &args.token_file {
        None => None,
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| format!("cannot read the token file {}: {e}", path.display()))?;
            let token = text.trim().to_owned();
            if token.is_empty() {
                return Err(format!("the token file {} is empty", path.display()).into());
            }
            Some(token)
        }
    };
    let config = Config {
        listen: args.listen,
        store_url: args.store.clone(),
        token,
        test_mode: args.test_mock_clock,
        test_store_url: args.test_store_url,
        max_test_stores: args.max_test_stores,
        max_body_bytes: args.max_body_bytes,
        max_depth: args.max_depth,
        body_timeout: Duration::from_secs(args.body_timeout),
        client_timeout: Duration::from_secs(args.client_timeout),
        worker_threads: args.threads,
        blocking_threads: args.blocking_threads,
        ui_read_only: args.ui_read_only,
        ui_sample_every: Duration::try_from_secs_f64(args.ui_sample_seconds)
            .ok()
            .filter(|d| *d >= Duration::from_millis(100))
            .ok_or_else(|| {
                format!(
                    "--ui-sample-seconds {} is not a number of seconds of at least 0.1",
                    args.ui_sample_seconds
                )
            })?,
        ..Config::default()
    };
    let prepared = Prepared::new(&config)?;
    let runtime = config.runtime()?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(config.listen).await?;
        let addr = listener.local_addr()?;
        println!("listening on {addr}");
        tracing::info!(%addr, store = %args.store, test_mode = config.test_mode, "coordinated serving");
        prepared.serve(listener, shutdown_signal()).await?;
        tracing::info!("coordinated stopped");
        Ok::<(), Box<dyn std::error::Error>>(())
    })
}

/// SIGTERM or SIGINT (Ctrl-C).
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutdown signal received; finishing requests in flight");
}
