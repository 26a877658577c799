//! `cargo run -p example-conformance`: serves the conformance fixture at `/api/inngest`.
//!
//! `PORT` is the address to listen on, `127.0.0.1:3000` by default; a bare port number means
//! that port on 127.0.0.1. This is how `scripts/conformance` starts the Go fixture too.

use example_conformance::create_app;
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .init();

    let listen = std::env::var("PORT").unwrap_or_else(|_| "127.0.0.1:3000".to_owned());
    let (host, port) = match listen.rsplit_once(':') {
        Some((host, port)) => (host.to_owned(), port.to_owned()),
        None => ("127.0.0.1".to_owned(), listen),
    };
    let port: u16 = port
        .parse()
        .map_err(|err| anyhow::anyhow!("PORT `{port}` is not a port number: {err}"))?;

    let app = create_app(port).await?;
    let server = app.start(format!("{host}:{port}")).await?;
    tracing::info!(%host, port, "the Rust conformance fixture listens");

    server.wait().await?;
    Ok(())
}
