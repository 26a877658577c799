//! `nestling-dev`: the Nestling engine as a standalone Inngest dev server.
//!
//! ```text
//! nestling-dev -u http://127.0.0.1:3000/api/inngest
//! ```

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;
use nestling_engine::{DEFAULT_PORT, Engine, EngineConfig};

/// Run the Nestling engine as an Inngest dev server.
#[derive(Debug, Parser)]
#[command(name = "nestling-dev", version, about)]
struct Args {
    /// App URL to sync on start (repeatable), like `inngest dev -u`.
    #[arg(short = 'u', long = "sdk-url")]
    sdk_url: Vec<String>,
    /// Host to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    host: String,
    /// Port to listen on (0 picks a free one).
    #[arg(short, long, default_value_t = DEFAULT_PORT, env = "NESTLING_ENGINE_PORT")]
    port: u16,
    /// SQLite database file.
    #[arg(
        long,
        default_value = ".nestling/engine.sqlite",
        env = "NESTLING_ENGINE_DB"
    )]
    db: PathBuf,
    /// Signing key: calls to apps are signed and the SDK APIs require it.
    #[arg(long, env = "INNGEST_SIGNING_KEY")]
    signing_key: Option<String>,
    /// Accepted event key (repeatable); none accepts any key.
    #[arg(long)]
    event_key: Vec<String>,
    /// Fixed delay between retries in milliseconds instead of the backoff table.
    #[arg(long)]
    retry_interval_ms: Option<u64>,
    /// Factor applied to sleeps, timeouts and backoff (1.0 = real time).
    #[arg(long, default_value_t = 1.0)]
    time_scale: f64,
    /// How often known apps are pinged, in seconds (0 turns polling off).
    #[arg(long, default_value_t = 5)]
    poll_interval: u64,
    /// Time limit of one call to an app, in seconds.
    #[arg(long, default_value_t = 7200)]
    call_timeout: u64,
}

#[expect(clippy::print_stdout, reason = "the binary announces where it listens")]
#[tokio::main]
async fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    let args = Args::parse();

    let bind: SocketAddr = match format!("{}:{}", args.host, args.port).parse() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("nestling-dev: invalid --host/--port: {e}");
            std::process::exit(2);
        }
    };
    let mut config = EngineConfig::default()
        .with_bind(bind)
        .with_database(args.db)
        .with_time_scale(args.time_scale)
        .with_call_timeout(Duration::from_secs(args.call_timeout))
        .with_poll_interval(
            (args.poll_interval > 0).then(|| Duration::from_secs(args.poll_interval)),
        );
    config.signing_key = args.signing_key;
    config.event_keys = args.event_key;
    config.apps = args.sdk_url;
    if let Some(ms) = args.retry_interval_ms {
        config = config.with_retry_interval(Duration::from_millis(ms));
    }

    let engine = match Engine::start(config).await {
        Ok(e) => e,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(1);
        }
    };
    println!(
        "nestling-dev listening on {} (UI at {}/, events at {}/e/<key>)",
        engine.url(),
        engine.url(),
        engine.url()
    );

    let _ = tokio::signal::ctrl_c().await;
    engine.shutdown().await;
}
