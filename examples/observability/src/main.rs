//! Serves the observability example: `cargo run -p example-observability`, then
//! `curl localhost:3000/health/inngest?details=true` or `curl localhost:3000/metrics`.
//! Set `OTEL_EXPORTER_OTLP_ENDPOINT=http://localhost:4318` to send spans to a collector.

use example_observability::{AppModule, create_app, options, resolve};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let env = std::env::vars().collect();
    let resolved = resolve(&env)?;
    let telemetry = nestling_inngest::init_telemetry(&resolved.tracing)?;

    let app = create_app(AppModule::new(options())).await?;
    let addr = std::env::var("ADDR").unwrap_or_else(|_| "127.0.0.1:3000".to_owned());
    app.listen(addr).await?;

    if let Some(telemetry) = telemetry {
        telemetry.shutdown()?;
    }

    Ok(())
}
