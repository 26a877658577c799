//! `cargo run -p example-basic`: serves the app on 127.0.0.1:3000 (or `PORT`), runs its
//! functions on the embedded engine, and sends one `user.created` event to show a run.

use std::sync::Arc;

use example_basic::{UserCreated, create_app};
use nestling_inngest::InngestService;
use nestling_inngest_protocol::Event;
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .init();

    let port = std::env::var("PORT").unwrap_or_else(|_| "3000".to_owned());
    let app = create_app().await?;
    let server = app.start(format!("127.0.0.1:{port}")).await?;

    let inngest = server.context().get::<dyn InngestService>();
    send_demo_event(&inngest).await?;

    server.wait().await?;
    Ok(())
}

async fn send_demo_event(inngest: &Arc<dyn InngestService>) -> anyhow::Result<()> {
    let user = UserCreated {
        user_id: "user-1".to_owned(),
        email: "ada@example.com".to_owned(),
    };
    let id = inngest
        .send(Event::new("user.created", serde_json::to_value(user)?))
        .await?;
    tracing::info!(event_id = %id, "sent user.created; the run shows in the engine's log");
    Ok(())
}
