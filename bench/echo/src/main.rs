//! The floor under any Rust serve endpoint: accept the executor's POST, parse it, find how many
//! steps are memoised and answer 206 with the StepRun op of the next one, the same answer the
//! official SDK gives for the benchmark's replay request, without running any function.
//!
//! - `POST /api/inngest` parses the whole body into a `serde_json::Value`.
//! - `POST /api/inngest-raw` parses lazily: the top level and `steps` into maps of borrowed raw
//!   JSON, leaving every memoised result unparsed (the design the SDK's memo map follows).
//!
//! Env: `PORT` (0 for any free port, the default), `WORKERS` (tokio worker threads; default one
//! per core). Once listening it prints `{"event":"listening","port":N,"pid":N}` on stdout.

use std::collections::HashMap;

use poem::{
    Body, EndpointExt, Response, Route, Server, handler, http::StatusCode, listener::Acceptor,
    listener::Listener, listener::TcpListener, post, web::Json,
};
use serde_json::{Value, json, value::RawValue};
use sha1::{Digest, Sha1};

/// The StepRun op for step `s<memoised>`, as the benchmark function's next step.
fn next_step(memoised: usize) -> Response {
    let name = format!("s{memoised}");
    let id = hex::encode(Sha1::digest(name.as_bytes()));
    let op = json!([{
        "id": id,
        "op": "StepRun",
        "name": name,
        "displayName": name,
        "opts": {},
        "userland": { "id": name },
        "data": { "i": memoised, "ok": true },
    }]);

    Response::builder()
        .status(StatusCode::PARTIAL_CONTENT)
        .content_type("application/json")
        .body(Body::from_vec(op.to_string().into_bytes()))
}

#[handler]
fn parse_all(Json(request): Json<Value>) -> Response {
    let memoised = request
        .get("steps")
        .and_then(Value::as_object)
        .map_or(0, serde_json::Map::len);

    next_step(memoised)
}

#[handler]
fn parse_lazily(body: Vec<u8>) -> Response {
    let memoised = serde_json::from_slice::<HashMap<&str, &RawValue>>(&body).and_then(|top| {
        match top.get("steps") {
            Some(steps) => {
                serde_json::from_str::<HashMap<&str, &RawValue>>(steps.get()).map(|memo| memo.len())
            }
            None => Ok(0),
        }
    });

    match memoised {
        Ok(memoised) => next_step(memoised),
        Err(err) => Response::builder()
            .status(StatusCode::BAD_REQUEST)
            .body(format!(
                "the request body is not an execution request: {err}"
            )),
    }
}

fn env_number<T: std::str::FromStr>(name: &str) -> Option<T> {
    std::env::var(name).ok().and_then(|v| v.parse().ok())
}

#[expect(
    clippy::print_stdout,
    reason = "the harness reads the bound port from stdout"
)]
fn main() -> std::io::Result<()> {
    let port: u16 = env_number("PORT").unwrap_or(0);
    let mut runtime = tokio::runtime::Builder::new_multi_thread();
    if let Some(workers) = env_number::<usize>("WORKERS") {
        runtime.worker_threads(workers);
    }

    runtime.enable_all().build()?.block_on(async move {
        let acceptor = TcpListener::bind(("127.0.0.1", port))
            .into_acceptor()
            .await?;
        let bound = acceptor
            .local_addr()
            .first()
            .and_then(|addr| addr.as_socket_addr().map(|a| a.port()))
            .unwrap_or(port);
        println!(
            "{}",
            json!({ "event": "listening", "port": bound, "pid": std::process::id() })
        );

        let app = Route::new()
            .at("/api/inngest", post(parse_all))
            .at("/api/inngest-raw", post(parse_lazily))
            .map_to_response();
        Server::new_with_acceptor(acceptor).run(app).await
    })
}
