//! `InngestService` over real loopback HTTP.
//!
//! A small poem server stands in for the Inngest dev server (which cannot be installed here:
//! the Go module proxy refuses the Inngest CLI). It accepts `/fn/register` and `/e/{key}` the
//! way the dev server does and records what it received.

use std::collections::BTreeMap;
use std::io::Write;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use nestling_inngest::{
    AutoRegistration, ConnectionState, DefaultInngestService, Error, FunctionSource, InngestClient,
    InngestModuleOptions, InngestService, ResolvedOptions, RetryPolicy, SDK_REGISTER_ID,
    SkipReason, SyncOutcome,
};
use nestling_inngest_protocol::{Event, FunctionConfig, StepConfig, Trigger};
use parking_lot::Mutex;
use poem::listener::{Acceptor, Listener, TcpListener};
use poem::{Request, Response, Server};
use serde_json::{Value, json};

/// What the stand-in received: path, query, headers of interest, JSON body.
#[derive(Debug, Clone)]
struct Received {
    path: String,
    query: Option<String>,
    expected_kind: Option<String>,
    body: Value,
}

/// The stand-in dev server; `fail_register` makes `/fn/register` answer 500 that many times.
struct DevServer {
    addr: SocketAddr,
    received: Arc<Mutex<Vec<Received>>>,
    fail_register: Arc<Mutex<u32>>,
}

impl DevServer {
    async fn start() -> Self {
        let received = Arc::new(Mutex::new(Vec::new()));
        let fail_register = Arc::new(Mutex::new(0_u32));
        let app = {
            let (received, fail_register) = (Arc::clone(&received), Arc::clone(&fail_register));
            poem::endpoint::make(move |req: Request| {
                let (received, fail_register) = (Arc::clone(&received), Arc::clone(&fail_register));
                async move { answer(req, &received, &fail_register).await }
            })
        };
        let acceptor = TcpListener::bind("127.0.0.1:0")
            .into_acceptor()
            .await
            .expect("bind loopback");
        let addr = *acceptor.local_addr()[0].as_socket_addr().expect("socket");
        tokio::spawn(Server::new_with_acceptor(acceptor).run(app));

        Self {
            addr,
            received,
            fail_register,
        }
    }

    fn received(&self) -> Vec<Received> {
        self.received.lock().clone()
    }
}

async fn answer(req: Request, received: &Mutex<Vec<Received>>, fail: &Mutex<u32>) -> Response {
    let path = req.uri().path().to_owned();
    let query = req.uri().query().map(str::to_owned);
    let expected_kind = req
        .headers()
        .get("x-inngest-expected-server-kind")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let body: Value = req.into_body().into_json().await.unwrap_or(Value::Null);
    let count = body.as_array().map_or(1, Vec::len);
    received.lock().push(Received {
        path: path.clone(),
        query,
        expected_kind,
        body,
    });

    let (status, reply) = if path == "/fn/register" {
        let mut fail = fail.lock();
        if *fail > 0 {
            *fail -= 1;
            (
                500,
                json!({"error": "could not store the app", "status": 500}),
            )
        } else {
            (
                200,
                json!({"ok": true, "modified": true, "app_id": "a-1", "sync_id": "s-1"}),
            )
        }
    } else {
        let ids: Vec<String> = (0..count).map(|i| format!("01JSVC{i:020}")).collect();
        (200, json!({"ids": ids, "status": 200}))
    };

    Response::builder()
        .status(poem::http::StatusCode::from_u16(status).expect("status"))
        .content_type("application/json")
        .body(reply.to_string())
}

/// Two functions, as the function registry would yield them for a serve URL.
fn functions() -> Arc<dyn FunctionSource> {
    Arc::new(|app: &str, url: &str| {
        ["welcome", "cleanup"]
            .into_iter()
            .map(|id| {
                let mut config: FunctionConfig =
                    serde_json::from_value(json!({"id": "", "name": id})).expect("config");
                config.id = format!("{app}-{id}");
                config.triggers = vec![Trigger::event(format!("app/{id}"))];
                let step_url = format!("{url}?fnId={app}-{id}&stepId=step");
                config
                    .steps
                    .insert("step".to_owned(), StepConfig::http(step_url, None));
                config
            })
            .collect::<Vec<_>>()
    })
}

fn options(options: InngestModuleOptions, env: &[(&str, &str)]) -> ResolvedOptions {
    let env: BTreeMap<&str, &str> = env.iter().copied().collect();
    options.resolve(&env).expect("valid options")
}

fn service(resolved: ResolvedOptions) -> Arc<dyn InngestService> {
    let client = InngestClient::new(&resolved)
        .expect("client")
        .with_retry(RetryPolicy::new(2, Duration::from_millis(1)));

    Arc::new(DefaultInngestService::with_client(
        resolved,
        functions(),
        client,
    ))
}

fn dev_service(dev: &DevServer, extra: InngestModuleOptions) -> Arc<dyn InngestService> {
    service(options(
        extra.id("shop").base_url(format!("http://{}", dev.addr)),
        &[],
    ))
}

/// Captures log lines written while the guard lives (the tests run on one thread).
#[derive(Clone, Default)]
struct Logs(Arc<Mutex<Vec<u8>>>);

impl Logs {
    fn capture(&self) -> tracing::subscriber::DefaultGuard {
        let subscriber = tracing_subscriber::fmt()
            .with_writer(self.clone())
            .with_ansi(false)
            .with_max_level(tracing::Level::DEBUG)
            .finish();

        tracing::subscriber::set_default(subscriber)
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock()).into_owned()
    }
}

impl Write for Logs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Logs {
    type Writer = Self;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

#[tokio::test]
async fn app_listening_registers_the_real_port_and_logs_the_count() {
    let dev = DevServer::start().await;
    let service = dev_service(&dev, InngestModuleOptions::default().app_version("1.4.0"));
    let logs = Logs::default();
    let _guard = logs.capture();

    let outcome = service.app_listening(45_123).await.expect("registered");

    let AutoRegistration::Registered { url, functions, .. } = &outcome else {
        panic!("expected a registration, got {outcome:?}");
    };
    assert_eq!(
        url, "http://localhost:45123/api/inngest",
        "default port → the real one"
    );
    assert_eq!(*functions, 2);

    let received = dev.received();
    assert_eq!(received.len(), 1);
    let register = &received[0];
    assert_eq!(register.path, "/fn/register");
    assert_eq!(register.expected_kind.as_deref(), Some("dev"));
    let body = &register.body;
    assert_eq!(body["url"], "http://localhost:45123/api/inngest");
    assert_eq!(body["v"], "0.1");
    assert_eq!(body["deployType"], "ping");
    assert_eq!(body["sdk"], SDK_REGISTER_ID);
    assert_eq!(body["framework"], "poem");
    assert_eq!(body["appName"], "shop");
    assert_eq!(body["appVersion"], "1.4.0");
    assert_eq!(
        body["capabilities"],
        json!({"trust_probe": "v1", "connect": "v1"})
    );
    assert_eq!(
        body["functions"][1]["steps"]["step"]["runtime"]["url"],
        "http://localhost:45123/api/inngest?fnId=shop-cleanup&stepId=step"
    );

    let text = logs.text();
    assert!(
        text.contains("registered the app's functions with Inngest"),
        "{text}"
    );
    assert!(text.contains("functions=2"), "{text}");
    assert!(
        text.contains("url=http://localhost:45123/api/inngest"),
        "{text}"
    );

    let again = service.app_listening(45_123).await.expect("no error");
    assert_eq!(
        again,
        AutoRegistration::Skipped(SkipReason::AlreadyRegistered)
    );
    assert_eq!(dev.received().len(), 1);
}

#[tokio::test]
async fn a_configured_serve_port_wins_over_the_listening_port() {
    let dev = DevServer::start().await;
    let service = dev_service(
        &dev,
        InngestModuleOptions::default()
            .serve_host("app")
            .serve_port(8080),
    );

    service.app_listening(45_124).await.expect("registered");

    assert_eq!(dev.received()[0].body["url"], "http://app:8080/api/inngest");
}

#[tokio::test]
async fn automatic_registration_is_skipped_where_it_does_not_apply() {
    let dev = DevServer::start().await;
    let base = format!("http://{}", dev.addr);
    let key = ("INNGEST_SIGNING_KEY", "signkey-prod-0123456789abcdef");
    let cases = [
        (
            options(InngestModuleOptions::new("a"), &[key]),
            SkipReason::Cloud,
        ),
        (
            options(
                InngestModuleOptions::new("a")
                    .base_url(&base)
                    .disable_auto_registration(true),
                &[],
            ),
            SkipReason::Disabled,
        ),
        (
            options(
                InngestModuleOptions::new("a").base_url(&base),
                &[("INNGEST_MODE", "connect")],
            ),
            SkipReason::ConnectMode,
        ),
    ];

    for (resolved, reason) in cases {
        let outcome = service(resolved)
            .app_listening(3000)
            .await
            .expect("no error");
        assert_eq!(outcome, AutoRegistration::Skipped(reason));
    }
    assert!(dev.received().is_empty(), "nothing was sent");
}

#[tokio::test]
async fn manual_registration_uses_the_given_host_and_port() {
    let dev = DevServer::start().await;
    let service = dev_service(
        &dev,
        InngestModuleOptions::default()
            .disable_auto_registration(true)
            .path("/inngest"),
    );

    let response = service
        .register_with_dev_server("127.0.0.1", 39_001)
        .await
        .expect("registered");
    service
        .register_with_dev_server("https://shop.example.com", 1)
        .await
        .expect("registered");

    assert!(response.ok);
    let urls: Vec<_> = dev
        .received()
        .iter()
        .map(|r| r.body["url"].clone())
        .collect();
    assert_eq!(
        urls,
        [
            "http://127.0.0.1:39001/inngest",
            "https://shop.example.com/inngest"
        ]
    );

    let err = service
        .register_with_dev_server("bad host", 1)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::InvalidOptions(_)), "{err:?}");
    assert!(err.to_string().contains("`serve_host`"), "{err}");
}

#[tokio::test]
async fn a_failed_registration_is_logged_and_can_be_retried() {
    let dev = DevServer::start().await;
    *dev.fail_register.lock() = 2; // both attempts of the retry policy fail
    let service = dev_service(&dev, InngestModuleOptions::default());
    let logs = Logs::default();
    let _guard = logs.capture();

    let err = service.app_listening(45_200).await.unwrap_err();

    assert!(err.to_string().contains("could not store the app"), "{err}");
    let text = logs.text();
    assert!(
        text.contains("WARN") && text.contains("could not register"),
        "{text}"
    );
    assert!(text.contains("functions=2"), "{text}");

    let outcome = service
        .app_listening(45_200)
        .await
        .expect("second try works");
    assert!(outcome.registered());
}

#[tokio::test]
async fn the_last_sync_and_the_last_successful_one_are_remembered() {
    let dev = DevServer::start().await;
    let service = dev_service(&dev, InngestModuleOptions::default());
    assert!(service.last_sync().is_none() && service.last_successful_sync().is_none());

    *dev.fail_register.lock() = 2;
    service.app_listening(45_201).await.unwrap_err();
    let failed = service.last_sync().expect("the failed attempt is recorded");
    assert!(!failed.succeeded());
    assert!(failed.url.ends_with(":45201/api/inngest"), "{}", failed.url);
    let SyncOutcome::Failed { message } = &failed.outcome else {
        panic!("{failed:?}");
    };
    assert!(message.contains("could not store the app"), "{message}");
    assert!(service.last_successful_sync().is_none());

    // A sync the executor asks for with a PUT is recorded too.
    let before = std::time::SystemTime::now();
    service
        .sync("http://127.0.0.1:45201/api/inngest", None, None)
        .await
        .unwrap();
    let last = service.last_sync().unwrap();
    assert_eq!(
        last.outcome,
        SyncOutcome::Registered {
            functions: 2,
            modified: true
        }
    );
    assert!(last.at >= before);
    assert_eq!(service.last_successful_sync(), Some(last));

    // A later failure keeps the last success.
    *dev.fail_register.lock() = 2;
    service
        .register_with_dev_server("127.0.0.1", 45_202)
        .await
        .unwrap_err();
    assert!(!service.last_sync().unwrap().succeeded());
    assert!(service.last_successful_sync().unwrap().succeeded());
    // An in-band sync, answered by the serve endpoint, counts as a success.
    service.synced_in_band("https://shop.example.com/api/inngest");
    let in_band = service.last_successful_sync().unwrap();
    assert_eq!(in_band.url, "https://shop.example.com/api/inngest");
    assert!(matches!(
        in_band.outcome,
        SyncOutcome::Registered { functions: 2, .. }
    ));

    // There is no embedded engine behind this service.
    assert!(service.engine_storage().is_none());
}

#[tokio::test]
async fn sync_forwards_the_deploy_id_and_server_kind_of_the_put() {
    let dev = DevServer::start().await;
    let service = dev_service(&dev, InngestModuleOptions::default());

    service
        .sync(
            "http://10.0.0.5:3000/api/inngest",
            Some("d-42"),
            Some("dev"),
        )
        .await
        .expect("synced");

    let received = &dev.received()[0];
    assert_eq!(received.query.as_deref(), Some("deployId=d-42"));
    assert_eq!(received.expected_kind.as_deref(), Some("dev"));
    assert_eq!(received.body["url"], "http://10.0.0.5:3000/api/inngest");
}

#[tokio::test]
async fn send_applies_event_transforms_in_order() {
    let dev = DevServer::start().await;
    let service = dev_service(&dev, InngestModuleOptions::default());
    let field = service.options().tracing.context_field_name.clone();
    service.add_event_transform(Arc::new(move |event: &mut Event| {
        event.data[field.as_str()] = json!({"traceparent": "00-abc-def-01"});
    }));
    service.add_event_transform(Arc::new(|event: &mut Event| {
        let seen = event.data.get("traceContext").is_some();
        event.data["saw_trace"] = json!(seen);
    }));

    let id = service
        .send(Event::new("app/welcome", json!({"user": 7})))
        .await
        .expect("sent");
    let ids = service
        .send_many(vec![
            Event::new("app/a", json!({})),
            Event::new("app/b", json!({})),
        ])
        .await
        .expect("sent");

    assert_eq!(id, "01JSVC00000000000000000000");
    assert_eq!(ids.len(), 2);
    let received = dev.received();
    let first = &received[0].body[0];
    assert_eq!(received[0].path, "/e/NO_EVENT_KEY_SET");
    assert_eq!(first["data"]["user"], 7);
    assert_eq!(
        first["data"]["traceContext"]["traceparent"],
        "00-abc-def-01"
    );
    assert_eq!(first["data"]["saw_trace"], true);
    assert_eq!(received[1].body[1]["data"]["saw_trace"], true);
}

#[tokio::test]
async fn functions_options_and_connection_state() {
    let dev = DevServer::start().await;
    let serve = dev_service(&dev, InngestModuleOptions::default().serve_port(4100));

    let configs = serve.functions();
    assert_eq!(serve.function_count(), 2);
    assert_eq!(configs[0].id, "shop-welcome");
    assert_eq!(
        configs[0].steps["step"].runtime.url,
        "http://localhost:4100/api/inngest?fnId=shop-welcome&stepId=step"
    );
    assert_eq!(serve.options().app_id, "shop");
    assert_eq!(serve.connection_state(), ConnectionState::NotApplicable);
    assert!(!serve.is_connected());

    let resolved = options(
        InngestModuleOptions::new("worker").base_url(format!("http://{}", dev.addr)),
        &[("INNGEST_MODE", "connect")],
    );
    let connect = DefaultInngestService::new(resolved, functions()).expect("service");
    assert_eq!(connect.connection_state(), ConnectionState::Closed);
    connect.set_connection_state(ConnectionState::Active);
    assert!(connect.is_connected());
    connect.set_connection_state(ConnectionState::Reconnecting);
    assert!(!connect.is_connected());

    // Serve mode ignores state reports: nothing stays connected there.
    let plain = DefaultInngestService::new(
        options(InngestModuleOptions::new("a"), &[("INNGEST_DEV", "1")]),
        functions(),
    )
    .expect("service");
    plain.set_connection_state(ConnectionState::Active);
    assert_eq!(plain.connection_state(), ConnectionState::NotApplicable);
}

#[tokio::test]
async fn typed_payloads_are_sent_as_data_objects() {
    use nestling_inngest::InngestServiceExt;

    #[derive(serde::Serialize)]
    struct Signup<'a> {
        email: &'a str,
        plan: &'a str,
    }

    let dev = DevServer::start().await;
    let service = dev_service(&dev, InngestModuleOptions::default());

    let id = service
        .send_data(
            "app/signup",
            &Signup {
                email: "a@example.com",
                plan: "pro",
            },
        )
        .await
        .expect("sent");
    let not_an_object = service
        .send_data("app/signup", &[1, 2, 3])
        .await
        .unwrap_err();

    assert_eq!(id, "01JSVC00000000000000000000");
    let body = &dev.received()[0].body[0];
    assert_eq!(body["name"], "app/signup");
    assert_eq!(
        body["data"],
        json!({"email": "a@example.com", "plan": "pro"})
    );
    assert!(
        not_an_object.to_string().contains("field `data`"),
        "{not_an_object}"
    );
    assert_eq!(dev.received().len(), 1, "the invalid event was not sent");
}

#[tokio::test]
async fn self_hosted_registration_expects_a_cloud_kind_server() {
    let dev = DevServer::start().await;
    let service = service(options(
        InngestModuleOptions::new("shop")
            .base_url(format!("http://{}", dev.addr))
            .signing_key("signkey-prod-0123456789abcdef"),
        &[],
    ));
    assert!(service.options().server.verifies_signatures());

    let outcome = service.app_listening(45_300).await.expect("registered");

    assert!(outcome.registered());
    // `inngest start` reports itself as `cloud`; a dev server would refuse this sync with a
    // clear "Expected server kind" error instead of silently skipping signature checks.
    assert_eq!(dev.received()[0].expected_kind.as_deref(), Some("cloud"));
}

mod provided_middleware {
    use nestling::{Injectable, Module, ModuleDef, NestlingApplication, Provider};
    use nestling_inngest::{
        Ctx, FunctionError, FunctionRegistry, InngestMiddleware, InngestModule, MiddlewareProvider,
        TracingOptions, functions,
    };

    use super::*;

    /// A middleware that is only a name.
    struct Named(&'static str);

    impl InngestMiddleware for Named {
        fn name(&self) -> &str {
            self.0
        }
    }

    /// A second middleware type: the container keys providers by type, so one module
    /// provides each type once.
    struct Metrics;

    impl InngestMiddleware for Metrics {
        fn name(&self) -> &str {
            "metrics"
        }
    }

    /// An injectable middleware class with a dependency.
    #[derive(Injectable)]
    struct Audit {
        #[inject]
        prefix: Arc<String>,
    }

    impl InngestMiddleware for Audit {
        fn name(&self) -> &str {
            &self.prefix
        }
    }

    #[derive(Debug, Default, Injectable)]
    struct Jobs;

    #[functions]
    impl Jobs {
        #[function(id = "plain", event = "mw/plain")]
        async fn plain(&self, _ctx: Ctx) -> Result<(), FunctionError> {
            Ok(())
        }

        #[function(id = "audited", event = "mw/audited")]
        #[use_middleware("audit")]
        async fn audited(&self, _ctx: Ctx) -> Result<(), FunctionError> {
            Ok(())
        }
    }

    struct ProvidingModule;

    impl Module for ProvidingModule {
        fn define(&self) -> ModuleDef {
            ModuleDef::new("ProvidingModule")
                .provider(MiddlewareProvider::global(Provider::factory(
                    |(): ()| async { Ok::<_, Error>(Metrics) },
                )))
                // Listed in the options too: it must not run twice.
                .provider(MiddlewareProvider::global(Provider::factory(
                    |(): ()| async { Ok::<_, Error>(Named("first")) },
                )))
        }
    }

    struct AppModule;

    impl Module for AppModule {
        fn define(&self) -> ModuleDef {
            let options = InngestModuleOptions::new("mw")
                .dev(true)
                .disable_auto_registration(true)
                .tracing(TracingOptions::default().enabled(true))
                .middleware(Arc::new(Named("first")));
            ModuleDef::new("AppModule")
                .import(InngestModule::for_root(options))
                .import(nestling::DynamicModule::new::<ProvidingModule>(
                    ProvidingModule.define(),
                ))
                .provider(Provider::value(String::from("audit")))
                .provider(MiddlewareProvider::named(Provider::class::<Audit>()))
                .provider(Provider::class::<Jobs>())
        }
    }

    #[tokio::test]
    async fn provided_middleware_is_found_ordered_and_named() {
        let app = NestlingApplication::create(AppModule).await.unwrap();
        let registry = app.get::<FunctionRegistry>();
        let stack = |id: &str| {
            registry
                .find("mw", &format!("mw-{id}"))
                .unwrap_or_else(|| panic!("mw-{id} was discovered"))
                .middleware()
                .names()
        };

        // Tracing first, then the options' list, then what modules provide, then the
        // function's own; "first" is provided and listed, and runs once.
        assert_eq!(stack("plain"), ["nestling-tracing", "first", "metrics"]);
        assert_eq!(
            stack("audited"),
            ["nestling-tracing", "first", "metrics", "audit"]
        );
    }
}
