//! Starts the example app on a free loopback port, sends `user.created`, and follows the run
//! through the embedded engine's REST API (`GET /v1/events/{id}/runs`) until it completes.

use std::time::{Duration, Instant};

use example_basic::{UserCreated, Welcome, create_app};
use nestling_inngest::InngestService;
use nestling_inngest_protocol::Event;
use serde_json::Value;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_user_is_welcomed_by_a_run_on_the_embedded_engine() {
    let app = create_app().await.unwrap();
    let server = app.start("127.0.0.1:0").await.unwrap();
    let inngest = server.context().get::<dyn InngestService>();
    let engine = inngest.options().api_origin.clone();
    assert_ne!(
        engine, "http://127.0.0.1:8288",
        "the embedded engine did not start"
    );
    assert_eq!(inngest.function_count(), 1);

    let user = UserCreated {
        user_id: format!("user-{}", std::process::id()),
        email: "ada@example.com".to_owned(),
    };
    let event_id = inngest
        .send(Event::new(
            "user.created",
            serde_json::to_value(&user).unwrap(),
        ))
        .await
        .unwrap();

    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    let run = loop {
        let runs: Value = client
            .get(format!("{engine}/v1/events/{event_id}/runs"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let finished = runs["data"]
            .as_array()
            .and_then(|runs| runs.iter().find(|r| r["status"] != "Running").cloned());
        if let Some(run) = finished {
            break run;
        }
        assert!(Instant::now() < deadline, "the run did not finish: {runs}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };

    assert_eq!(run["status"], "Completed", "{run}");
    assert_eq!(run["function_slug"], "basic-app-welcome-new-user");
    let welcome: Welcome = serde_json::from_value(run["output"].clone()).unwrap();
    assert_eq!(welcome.user_id, user.user_id);
    assert!(welcome.email_sent);
    assert_eq!(welcome.profile_id, format!("profile-{}", user.user_id));
    assert!(
        !welcome.follow_up_event.is_empty(),
        "the follow-up event has no id"
    );

    server.close().await.unwrap();
}
