//! The example served on a free loopback port and called over HTTP.

use std::collections::HashMap;

use example_modules::{AppModule, User, create_app};

fn module(vars: &[(&str, &str)]) -> AppModule {
    AppModule {
        env_vars: Some(
            vars.iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect::<HashMap<_, _>>(),
        ),
        ..AppModule::default()
    }
}

async fn text(request: reqwest::RequestBuilder) -> String {
    let response = request.send().await.unwrap();
    assert!(response.status().is_success(), "{response:?}");
    response.text().await.unwrap()
}

async fn json<T: serde::de::DeserializeOwned>(request: reqwest::RequestBuilder) -> T {
    let response = request.send().await.unwrap();
    assert!(response.status().is_success(), "{response:?}");
    response.json().await.unwrap()
}

#[tokio::test]
async fn the_three_modules_answer_over_http() {
    let app = create_app(module(&[])).await.unwrap();
    let routes: Vec<_> = app.routes().iter().map(|r| r.path.as_str()).collect();
    assert_eq!(routes, ["/api/stats", "/api/greetings", "/api/users"]);
    let server = app.start("127.0.0.1:0").await.unwrap();
    let base = format!("{}/api", server.url());
    let client = reqwest::Client::new();

    // development.toml overrides the punctuation of default.toml.
    let greeting = text(client.get(format!("{base}/greetings/Ada"))).await;
    assert_eq!(greeting, "Hello, Ada!!");

    let new_user = serde_json::json!({ "name": "Grace" });
    let created: User = json(client.post(format!("{base}/users")).json(&new_user)).await;
    assert_eq!(created.welcome, "Hello, Grace!!");

    let users: Vec<User> = json(client.get(format!("{base}/users"))).await;
    assert_eq!(users, [created]);

    let stats: serde_json::Value = json(client.get(format!("{base}/stats"))).await;
    assert_eq!(stats, serde_json::json!({ "greetings": 2, "users": 1 }));

    server.close().await.unwrap();
}

#[tokio::test]
async fn environment_variables_override_the_files() {
    let app = create_app(module(&[
        ("APP_GREETING__GREETING", "Howdy"),
        ("APP_SERVER__GLOBAL_PREFIX", "v2"),
    ]))
    .await
    .unwrap();
    let server = app.start("127.0.0.1:0").await.unwrap();

    let url = format!("{}/v2/greetings/Linus", server.url());
    let greeting = text(reqwest::Client::new().get(url)).await;
    assert_eq!(greeting, "Howdy, Linus!!");

    server.close().await.unwrap();
}
