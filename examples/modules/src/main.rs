//! Serves the three example modules: `cargo run -p example-modules`, then
//! `curl localhost:3000/api/greetings/Ada`.

use example_modules::{AppModule, create_app};
use nestling::ConfigService;
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .init();

    let app = create_app(AppModule::default()).await?;
    let addr: String = app
        .get::<ConfigService>()
        .get_or("server.addr", "127.0.0.1:3000".to_owned())?;
    app.listen(addr).await?;

    Ok(())
}
