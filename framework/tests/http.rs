//! The HTTP application over real loopback sockets (port 0: the OS picks a free port).

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use nestling::{
    ApplicationInfo, BeforeApplicationShutdown, BoxError, DiscoveryService, Error, Injectable,
    Module, ModuleDef, NestlingApplication, OnApplicationListen, OnApplicationShutdown,
    OnModuleInit, Provider, ShutdownSignal, async_trait,
};
use poem::web::Data;
use poem::{EndpointExt, Route, get, handler};

/// Handlers found at `on_module_init`, read by the route at request time (the route is built
/// before init, as in NestJS).
#[derive(Default)]
struct Registry {
    handlers: Mutex<Vec<String>>,
}

#[derive(Injectable)]
#[injectable(hooks(on_module_init, on_application_listen))]
struct Explorer {
    #[inject]
    discovery: Arc<DiscoveryService>,
    #[inject]
    registry: Arc<Registry>,
    #[inject]
    info: Arc<ApplicationInfo>,
    listened: Mutex<Option<String>>,
}

#[async_trait]
impl OnModuleInit for Explorer {
    async fn on_module_init(&self) -> Result<(), BoxError> {
        let mut handlers = self.registry.handlers.lock().expect("registry lock");
        for method in self.discovery.methods("http-test.handler") {
            handlers.push(format!("{}::{}", method.provider_name, method.entry.method));
        }
        Ok(())
    }
}

#[async_trait]
impl OnApplicationListen for Explorer {
    async fn on_application_listen(&self, addr: SocketAddr) -> Result<(), BoxError> {
        let url = format!("http://{addr}{}", self.info.route_path("/registry"));
        *self.listened.lock().expect("listened lock") = Some(url);
        Ok(())
    }
}

#[derive(Injectable)]
struct Jobs;

#[nestling::discoverable]
impl Jobs {
    #[discover(kind = "http-test.handler")]
    fn nightly(&self) {}
}

#[handler]
fn list(registry: Data<&Arc<Registry>>) -> String {
    registry.handlers.lock().expect("registry lock").join(",")
}

/// Told when the slow handler has started, so a test knows the request is in flight.
#[derive(Default)]
struct Started(tokio::sync::Notify, std::sync::atomic::AtomicBool);

impl Started {
    fn handled(&self) -> bool {
        self.1.load(std::sync::atomic::Ordering::SeqCst)
    }
}

#[handler]
async fn slow(started: Data<&Arc<Started>>) -> &'static str {
    started.0.0.notify_one();
    tokio::time::sleep(Duration::from_millis(300)).await;
    started.0.1.store(true, std::sync::atomic::Ordering::SeqCst);
    "finished"
}

struct RegistryModule;
impl Module for RegistryModule {
    fn define(&self) -> ModuleDef {
        ModuleDef::new("RegistryModule")
            .provider(Provider::value(Registry::default()))
            .export::<Started>()
            .provider(Provider::class::<Explorer>())
            .provider(Provider::class::<Jobs>())
            .route("/registry", |ctx| {
                let registry = ctx.module().try_get::<Registry>()?;
                Ok(Route::new().at("/", get(list)).data(registry))
            })
            .provider(Provider::value(Started::default()))
            .route("/slow", |ctx| {
                Ok(get(slow).data(ctx.module().try_get::<Started>()?))
            })
    }
}

#[tokio::test]
async fn module_routes_are_served_under_the_global_prefix_and_read_the_init_registry() {
    let app = NestlingApplication::builder(RegistryModule)
        .global_prefix("api/")
        .create()
        .await
        .unwrap();
    let mapped: Vec<_> = app.routes().iter().map(|r| r.path.as_str()).collect();
    assert_eq!(mapped, ["/api/registry", "/api/slow"]);

    let server = app.start("127.0.0.1:0").await.unwrap();
    assert_ne!(server.local_addr().port(), 0);
    let expected_url = format!("{}/api/registry", server.url());
    let listened = server.context().get::<Explorer>();
    assert_eq!(
        listened.listened.lock().unwrap().as_deref(),
        Some(expected_url.as_str()),
        "on_application_listen sees the bound port"
    );

    let body = reqwest::get(&expected_url)
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(body, "Jobs::nightly");
    let missing = reqwest::get(format!("{}/registry", server.url()))
        .await
        .unwrap();
    assert_eq!(missing.status(), 404, "module routes live under the prefix");

    server.close().await.unwrap();
    assert!(
        reqwest::get(&expected_url).await.is_err(),
        "no longer accepting"
    );
}

type Log = Arc<Mutex<Vec<&'static str>>>;

/// Records the shutdown hooks and whether the slow request had been handled by then.
struct Witness(Log, Arc<Started>);

impl Witness {
    fn record(&self, hook: &'static str) {
        let mut log = self.0.lock().unwrap();
        if self.1.handled() && !log.contains(&"handled") {
            log.push("handled");
        }
        log.push(hook);
    }
}

#[async_trait]
impl BeforeApplicationShutdown for Witness {
    async fn before_application_shutdown(&self, _: ShutdownSignal) -> Result<(), BoxError> {
        self.record("before");
        Ok(())
    }
}

#[async_trait]
impl OnApplicationShutdown for Witness {
    async fn on_application_shutdown(&self, signal: ShutdownSignal) -> Result<(), BoxError> {
        assert_eq!(signal, ShutdownSignal::Close);
        self.record("shutdown");
        Ok(())
    }
}

struct DrainModule(Log);
impl Module for DrainModule {
    fn define(&self) -> ModuleDef {
        ModuleDef::new("DrainModule")
            .import(RegistryModule)
            .provider({
                let log = Arc::clone(&self.0);
                Provider::factory(move |started: Arc<Started>| {
                    let log = Arc::clone(&log);
                    async move { Ok::<_, Error>(Witness(log, started)) }
                })
                .before_application_shutdown()
                .on_application_shutdown()
            })
    }
}

#[tokio::test]
async fn shutdown_drains_requests_in_flight_between_the_hooks() {
    let log = Log::default();
    let app = NestlingApplication::create(DrainModule(Arc::clone(&log)))
        .await
        .unwrap();
    let server = app.start("127.0.0.1:0").await.unwrap();
    let url = format!("{}/slow", server.url());

    let in_flight =
        tokio::spawn(async move { reqwest::get(url).await.unwrap().text().await.unwrap() });
    server.context().get::<Started>().0.notified().await;

    server.close().await.unwrap();
    assert_eq!(in_flight.await.unwrap(), "finished");
    assert_eq!(*log.lock().unwrap(), ["before", "handled", "shutdown"]);
}

#[tokio::test]
async fn a_shutdown_handle_ends_wait() {
    let app = NestlingApplication::create(RegistryModule).await.unwrap();
    let server = app.start("127.0.0.1:0").await.unwrap();
    let handle = server.shutdown_handle();
    let waiting = tokio::spawn(server.wait());
    handle.shutdown();
    tokio::time::timeout(Duration::from_secs(5), waiting)
        .await
        .expect("wait returns after shutdown()")
        .unwrap()
        .unwrap();
}

#[tokio::test]
async fn clashing_routes_and_taken_ports_are_errors() {
    struct Clash;
    impl Module for Clash {
        fn define(&self) -> ModuleDef {
            ModuleDef::new("ClashModule")
                .import(RegistryModule)
                .route("/registry", |_| Ok(get(list)))
        }
    }
    let err = NestlingApplication::create(Clash).await.unwrap_err();
    assert!(
        matches!(&err, Error::Route { module, path, .. } if module == "ClashModule" && path == "/registry"),
        "{err}"
    );

    let taken = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let app = NestlingApplication::create(RegistryModule).await.unwrap();
    let err = app.start(&addr).await.unwrap_err();
    assert!(matches!(&err, Error::Bind { .. }), "{err}");
    assert!(
        err.to_string()
            .starts_with(&format!("could not listen on {addr}"))
    );
}

/// Where a dynamic module mounts its route, decided by a provider built at start-up (what
/// an options factory would return).
struct Mount(String);

#[handler]
fn mounted() -> &'static str {
    "mounted"
}

struct MountModule;

impl MountModule {
    /// A module whose route path is read from its `Mount` provider, made by an async factory.
    fn for_root_async(path: &'static str) -> nestling::DynamicModule {
        nestling::DynamicModule::new::<MountModule>(
            nestling::AsyncOptions::factory(move |()| async move {
                Ok::<_, Error>(Mount(path.to_owned()))
            })
            .apply(ModuleDef::new("MountModule"))
            .route(
                nestling::RoutePath::from_provider(|mount: &Mount| mount.0.clone()),
                |_| Ok(get(mounted)),
            ),
        )
    }
}

#[tokio::test]
async fn a_route_path_read_from_a_provider_is_served_there_only() {
    struct App;
    impl Module for App {
        fn define(&self) -> ModuleDef {
            ModuleDef::new("AppModule").import(MountModule::for_root_async("/chosen/at-start-up"))
        }
    }

    let app = NestlingApplication::builder(App)
        .global_prefix("v1")
        .create()
        .await
        .unwrap();
    assert_eq!(app.routes()[0].path, "/v1/chosen/at-start-up");
    let server = app.start("127.0.0.1:0").await.unwrap();

    let at = reqwest::get(format!("{}/v1/chosen/at-start-up", server.url()))
        .await
        .unwrap();
    assert_eq!(at.status(), 200);
    assert_eq!(at.text().await.unwrap(), "mounted");
    for elsewhere in ["/chosen/at-start-up", "/v1/chosen", "/v1"] {
        let response = reqwest::get(format!("{}{elsewhere}", server.url()))
            .await
            .unwrap();
        assert_eq!(response.status(), 404, "{elsewhere}");
    }

    server.close().await.unwrap();
}

#[tokio::test]
async fn a_route_path_needs_its_provider_visible_before_anything_is_built() {
    struct Lonely;
    impl Module for Lonely {
        fn define(&self) -> ModuleDef {
            ModuleDef::new("LonelyModule").route(
                nestling::RoutePath::from_provider(|mount: &Mount| mount.0.clone()),
                |_| Ok(get(mounted)),
            )
        }
    }

    let err = NestlingApplication::create(Lonely).await.unwrap_err();
    assert!(
        matches!(&err, Error::RoutePathUnavailable { module, provider, .. }
            if module == "LonelyModule" && provider == "Mount"),
        "{err}"
    );
    let text = err.to_string();
    assert!(text.contains("Add a provider of `Mount`"), "{text}");

    // A path that cannot be read (here: from a transient provider, which has no shared
    // instance) is an error naming the module and where the path comes from.
    struct Transient;
    impl Module for Transient {
        fn define(&self) -> ModuleDef {
            ModuleDef::new("TransientModule")
                .provider(
                    Provider::factory(|()| async { Ok::<_, Error>(Mount("/t".to_owned())) })
                        .transient(),
                )
                .route(
                    nestling::RoutePath::from_provider(|mount: &Mount| mount.0.clone()),
                    |_| Ok(get(mounted)),
                )
        }
    }
    let err = NestlingApplication::create(Transient).await.unwrap_err();
    assert!(
        matches!(&err, Error::Route { module, path, message }
            if module == "TransientModule"
                && path == "(path read from `Mount`)"
                && message.contains("transient")),
        "{err}"
    );
}
