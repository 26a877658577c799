//! `TestingModule`: overrides, compile without hooks, init and close, the mock service.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use nestling::{
    BoxError, Injectable, Module, ModuleDef, OnModuleDestroy, OnModuleInit, Provider, async_trait,
};
use nestling_inngest::{InngestModule, InngestModuleOptions, InngestService, InngestServiceExt};
use nestling_testing::{MockInngestService, TestingError, TestingModule};
use serde_json::json;

trait Mailer: Send + Sync {
    fn transport(&self) -> String;
}

struct Smtp;
impl Mailer for Smtp {
    fn transport(&self) -> String {
        "smtp".to_owned()
    }
}

struct Fake(String);
impl Mailer for Fake {
    fn transport(&self) -> String {
        self.0.clone()
    }
}

/// Counts its hooks.
#[derive(Default)]
struct Warmup {
    inits: AtomicU32,
    destroys: AtomicU32,
}

#[async_trait]
impl OnModuleInit for Warmup {
    async fn on_module_init(&self) -> Result<(), BoxError> {
        self.inits.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }
}

#[async_trait]
impl OnModuleDestroy for Warmup {
    async fn on_module_destroy(&self) -> Result<(), BoxError> {
        self.destroys.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }
}

#[derive(Injectable)]
struct Newsletter {
    #[inject]
    mailer: Arc<dyn Mailer>,
    #[inject]
    inngest: Arc<dyn InngestService>,
}

impl Newsletter {
    async fn publish(&self, issue: u32) -> Result<String, nestling_inngest::Error> {
        self.inngest
            .send_data(
                "news/issue.published",
                &json!({ "issue": issue, "via": self.mailer.transport() }),
            )
            .await
    }
}

struct AppModule;
impl Module for AppModule {
    fn define(&self) -> ModuleDef {
        ModuleDef::new("AppModule")
            .import(InngestModule::for_root(
                InngestModuleOptions::new("news")
                    .dev(true)
                    .is_global(true)
                    .disable_auto_registration(true),
            ))
            .provider(Provider::value(Smtp).bind::<dyn Mailer>(|s| s))
            .provider(
                Provider::value(Warmup::default())
                    .on_module_init()
                    .on_module_destroy(),
            )
            .provider(Provider::class::<Newsletter>())
    }
}

#[tokio::test]
async fn compile_builds_without_hooks_and_init_and_close_run_them_once() {
    let module = TestingModule::builder(AppModule).compile().await.unwrap();
    let warmup = module.get::<Warmup>();
    assert_eq!(
        warmup.inits.load(Ordering::SeqCst),
        0,
        "compile runs no hook"
    );

    module.init().await.unwrap();
    module.init().await.unwrap();
    assert_eq!(warmup.inits.load(Ordering::SeqCst), 1);

    module.close().await.unwrap();
    module.close().await.unwrap();
    assert_eq!(warmup.destroys.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn overrides_by_value_and_factory_reach_the_injected_services() {
    let by_value = TestingModule::builder(AppModule)
        .override_provider::<dyn Mailer>()
        .use_value(Arc::new(Fake("fake".into())))
        .mock_inngest(Arc::new(MockInngestService::new("news")))
        .compile()
        .await
        .unwrap();
    assert_eq!(by_value.get::<Newsletter>().mailer.transport(), "fake");

    let by_factory = TestingModule::builder(AppModule)
        .override_provider::<dyn Mailer>()
        .use_factory(|warmup: Arc<Warmup>| async move {
            let inits = warmup.inits.load(Ordering::SeqCst);
            Ok::<_, std::convert::Infallible>(
                Arc::new(Fake(format!("factory-{inits}"))) as Arc<dyn Mailer>
            )
        })
        .compile()
        .await
        .unwrap();
    assert_eq!(by_factory.get::<dyn Mailer>().transport(), "factory-0");
}

#[tokio::test]
async fn the_mock_service_records_what_services_send() {
    let mock = Arc::new(MockInngestService::new("news"));
    let module = TestingModule::builder(AppModule)
        .mock_inngest(Arc::clone(&mock))
        .compile()
        .await
        .unwrap();
    module.init().await.unwrap();
    let newsletter = module.get::<Newsletter>();

    let first = newsletter.publish(1).await.unwrap();
    let second = newsletter.publish(2).await.unwrap();
    assert_ne!(first, second, "each event gets its own id");
    let sent = mock.events();
    assert_eq!(sent.len(), 2);
    assert_eq!(sent[1].id, second);
    assert_eq!(sent[1].event.data, json!({"issue": 2, "via": "smtp"}));
    assert!(Arc::ptr_eq(&module.mock_inngest().unwrap(), &mock));

    mock.fail_sends(Some("event key revoked"));
    let err = newsletter.publish(3).await.unwrap_err();
    assert!(err.to_string().contains("event key revoked"), "{err}");
    assert_eq!(
        mock.take_events().len(),
        2,
        "a refused send records nothing"
    );
    assert!(mock.events().is_empty());
}

#[tokio::test]
async fn waiting_for_events_never_sent_times_out() {
    let mock = MockInngestService::new("news");

    let err = mock
        .wait_for_events(1, Duration::from_millis(50))
        .await
        .unwrap_err();

    assert!(matches!(err, TestingError::Timeout { .. }), "{err}");
    assert!(err.to_string().contains("got 0"), "{err}");
}

#[tokio::test]
async fn waiting_for_events_sent_later_returns_them() {
    let mock = Arc::new(MockInngestService::new("news"));
    let sender = Arc::clone(&mock);
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(20)).await;
        sender
            .send_data("news/late", &json!({}))
            .await
            .expect("the mock accepts the event");
    });

    let sent = mock
        .wait_for_events(1, Duration::from_secs(5))
        .await
        .unwrap();
    assert_eq!(sent[0].name(), "news/late");
}

#[tokio::test]
async fn overriding_a_type_nobody_provides_is_a_clear_error() {
    let err = TestingModule::create(ModuleDef::new("Test").provider(Provider::value(1u8)))
        .override_provider::<u64>()
        .use_value(Arc::new(7))
        .compile()
        .await
        .unwrap_err();

    assert!(matches!(err, TestingError::Container(_)), "{err}");
    assert!(err.to_string().contains("u64"), "{err}");
}

#[tokio::test]
async fn a_replacement_with_a_missing_dependency_is_reported_before_building() {
    let err = TestingModule::builder(AppModule)
        .override_provider::<dyn Mailer>()
        .use_factory(|n: Arc<u128>| async move {
            Ok::<_, std::convert::Infallible>(Arc::new(Fake(n.to_string())) as Arc<dyn Mailer>)
        })
        .compile()
        .await
        .unwrap_err();

    assert!(err.to_string().contains("u128"), "{err}");
}

#[tokio::test]
async fn an_invalid_app_id_for_the_mock_is_an_error_not_a_panic() {
    let err = MockInngestService::try_new("").unwrap_err();
    assert!(matches!(err, TestingError::Inngest(_)), "{err}");
}
