//! Lifecycle hooks: NestJS's order on the way up and down, errors on each side.

use std::sync::{Arc, Mutex};

use nestling::{
    ApplicationContext, BeforeApplicationShutdown, BoxError, Error, Module, ModuleDef,
    OnApplicationBootstrap, OnApplicationShutdown, OnModuleDestroy, OnModuleInit, Provider,
    ShutdownSignal, async_trait,
};

type Log = Arc<Mutex<Vec<String>>>;

/// A provider recording every hook it receives; `fail` names a hook that returns an error.
#[derive(Clone)]
struct Probe {
    name: &'static str,
    log: Log,
    fail: Option<&'static str>,
}

impl Probe {
    fn record(&self, hook: &str) -> Result<(), BoxError> {
        self.log
            .lock()
            .expect("log lock")
            .push(format!("{}.{hook}", self.name));
        if self.fail == Some(hook) {
            return Err(format!("{} refuses {hook}", self.name).into());
        }
        Ok(())
    }
}

#[async_trait]
impl OnModuleInit for Probe {
    async fn on_module_init(&self) -> Result<(), BoxError> {
        self.record("init")
    }
}

#[async_trait]
impl OnApplicationBootstrap for Probe {
    async fn on_application_bootstrap(&self) -> Result<(), BoxError> {
        self.record("bootstrap")
    }
}

#[async_trait]
impl OnModuleDestroy for Probe {
    async fn on_module_destroy(&self) -> Result<(), BoxError> {
        self.record("destroy")
    }
}

#[async_trait]
impl BeforeApplicationShutdown for Probe {
    async fn before_application_shutdown(&self, signal: ShutdownSignal) -> Result<(), BoxError> {
        self.record(&format!("before({signal})"))
    }
}

#[async_trait]
impl OnApplicationShutdown for Probe {
    async fn on_application_shutdown(&self, signal: ShutdownSignal) -> Result<(), BoxError> {
        self.record(&format!("shutdown({signal})"))
    }
}

/// Distinct types per position in the graph, so that each is its own provider.
macro_rules! probes {
    ($($ty:ident),*) => {$(
        struct $ty(Probe);
        impl std::ops::Deref for $ty {
            type Target = Probe;
            fn deref(&self) -> &Probe { &self.0 }
        }
        #[async_trait]
        impl OnModuleInit for $ty {
            async fn on_module_init(&self) -> Result<(), BoxError> { self.0.on_module_init().await }
        }
        #[async_trait]
        impl OnApplicationBootstrap for $ty {
            async fn on_application_bootstrap(&self) -> Result<(), BoxError> {
                self.0.on_application_bootstrap().await
            }
        }
        #[async_trait]
        impl OnModuleDestroy for $ty {
            async fn on_module_destroy(&self) -> Result<(), BoxError> { self.0.on_module_destroy().await }
        }
        #[async_trait]
        impl BeforeApplicationShutdown for $ty {
            async fn before_application_shutdown(&self, s: ShutdownSignal) -> Result<(), BoxError> {
                self.0.before_application_shutdown(s).await
            }
        }
        #[async_trait]
        impl OnApplicationShutdown for $ty {
            async fn on_application_shutdown(&self, s: ShutdownSignal) -> Result<(), BoxError> {
                self.0.on_application_shutdown(s).await
            }
        }
    )*};
}

probes!(Db, Repo, Api, Global);

fn hooked<T>(builder: nestling::ProviderBuilder<T>) -> nestling::ProviderBuilder<T>
where
    T: OnModuleInit
        + OnApplicationBootstrap
        + OnModuleDestroy
        + BeforeApplicationShutdown
        + OnApplicationShutdown,
{
    builder
        .on_module_init()
        .on_application_bootstrap()
        .on_module_destroy()
        .before_application_shutdown()
        .on_application_shutdown()
}

struct Graph {
    log: Log,
    fail: Option<(&'static str, &'static str)>,
}

impl Graph {
    fn probe(&self, name: &'static str) -> Probe {
        Probe {
            name,
            log: Arc::clone(&self.log),
            fail: self
                .fail
                .and_then(|(who, hook)| (who == name).then_some(hook)),
        }
    }
}

/// Root (Api) imports Data (Db <- Repo); Global is a global module.
struct Root(Arc<Graph>);
struct Data(Arc<Graph>);
struct GlobalModule(Arc<Graph>);

impl Module for Data {
    fn define(&self) -> ModuleDef {
        let repo = self.0.probe("repo");
        ModuleDef::new("DataModule")
            .provider(hooked(Provider::factory(move |_: Arc<Db>| {
                let repo = repo.clone();
                async move { Ok::<_, Error>(Repo(repo)) }
            })))
            .provider(hooked(Provider::value(Db(self.0.probe("db")))))
            .export::<Repo>()
    }
}

impl Module for GlobalModule {
    fn define(&self) -> ModuleDef {
        ModuleDef::new("GlobalModule")
            .provider(hooked(Provider::value(Global(self.0.probe("global")))))
            .export::<Global>()
            .global()
    }
}

impl Module for Root {
    fn define(&self) -> ModuleDef {
        let api = self.0.probe("api");
        ModuleDef::new("RootModule")
            .import(Data(Arc::clone(&self.0)))
            .import(GlobalModule(Arc::clone(&self.0)))
            .provider(hooked(Provider::factory(
                move |(_, _): (Arc<Repo>, Arc<Global>)| {
                    let api = api.clone();
                    async move { Ok::<_, Error>(Api(api)) }
                },
            )))
    }
}

fn graph(fail: Option<(&'static str, &'static str)>) -> (Root, Log) {
    let log = Log::default();
    let root = Root(Arc::new(Graph {
        log: Arc::clone(&log),
        fail,
    }));
    (root, log)
}

fn take(log: &Log) -> Vec<String> {
    std::mem::take(&mut *log.lock().expect("log lock"))
}

#[tokio::test]
async fn hooks_run_dependencies_first_up_and_dependents_first_down() {
    let (root, log) = graph(None);
    let app = ApplicationContext::create(root).await.unwrap();
    assert_eq!(
        take(&log),
        [
            "global.init",
            "db.init",
            "repo.init",
            "api.init",
            "global.bootstrap",
            "db.bootstrap",
            "repo.bootstrap",
            "api.bootstrap",
        ]
    );

    app.close().await.unwrap();
    assert_eq!(
        take(&log),
        [
            "api.destroy",
            "repo.destroy",
            "db.destroy",
            "global.destroy",
            "api.before(close)",
            "repo.before(close)",
            "db.before(close)",
            "global.before(close)",
            "api.shutdown(close)",
            "repo.shutdown(close)",
            "db.shutdown(close)",
            "global.shutdown(close)",
        ]
    );

    app.close().await.unwrap();
    assert!(take(&log).is_empty(), "a second close does nothing");
}

#[tokio::test]
async fn a_failing_start_up_hook_aborts_start_up_and_names_the_provider() {
    let (root, log) = graph(Some(("repo", "init")));
    let err = ApplicationContext::create(root).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "on_module_init of `Repo` in module `DataModule` failed: repo refuses init"
    );
    assert_eq!(take(&log), ["global.init", "db.init", "repo.init"]);
}

#[tokio::test]
async fn shutdown_errors_are_gathered_and_the_rest_still_runs() {
    let (root, log) = graph(Some(("repo", "destroy")));
    let app = ApplicationContext::create(root).await.unwrap();
    take(&log);

    let err = app.close().await.unwrap_err();
    let Error::Shutdown { errors } = &err else {
        panic!("expected a shutdown error, got {err}");
    };
    assert_eq!(errors.len(), 1);
    assert!(err.to_string().contains("repo refuses destroy"), "{err}");
    let ran = take(&log);
    assert_eq!(ran.len(), 12, "every hook ran: {ran:?}");
    assert_eq!(
        ran.last().map(String::as_str),
        Some("global.shutdown(close)")
    );
}

#[tokio::test]
async fn compile_builds_without_running_hooks() {
    let (root, log) = graph(None);
    let app = ApplicationContext::builder(root).compile().await.unwrap();
    assert!(take(&log).is_empty());
    app.init().await.unwrap();
    assert_eq!(take(&log).len(), 8);
    app.init().await.unwrap();
    assert!(take(&log).is_empty(), "init runs once");
}
