//! Discovery: the link-time table of annotated methods, joined with the built graph.
//!
//! If the linker dropped the entries (a known hazard of `linkme` with some linker settings),
//! `the_link_time_table_holds_every_entry` fails.

use std::any::TypeId;
use std::sync::Arc;

use nestling::__private::futures::future::BoxFuture;
use nestling::__private::{CallMismatch, Erased, Instance, METHOD_ENTRIES, MethodEntry};
use nestling::{ApplicationContext, DiscoveryService, Injectable, Module, ModuleDef, Provider};

#[derive(Injectable)]
struct Mailer {
    #[injectable(default = "mailer".to_owned())]
    name: String,
}

#[nestling::discoverable]
impl Mailer {
    #[discover(kind = "test.listener", event = "user.created", retries = 3)]
    async fn welcome(&self, user: String) -> String {
        format!("{} welcomes {user}", self.name)
    }

    #[discover(kind = "test.listener", event = "user.deleted")]
    fn farewell(&self) -> &'static str {
        "bye"
    }

    #[discover(kind = "test.cron", schedule = "0 * * * *")]
    async fn hourly(&self) -> u32 {
        60
    }

    /// Not annotated: not discovered.
    #[allow(dead_code, reason = "exists to show that unmarked methods are skipped")]
    fn helper(&self) {}
}

/// Annotated but never registered in a module: must not be discovered.
#[allow(dead_code, reason = "only its entries matter")]
struct Orphan;

#[nestling::discoverable]
impl Orphan {
    #[discover(kind = "test.listener", event = "orphan")]
    fn never(&self) {}
}

/// The form another crate's macro (nestling-inngest) writes by hand against the frozen
/// `MethodEntry` contract.
mod raw {
    use super::*;

    pub(super) struct RawService(pub(super) u32);

    fn raw_type_id() -> TypeId {
        TypeId::of::<RawService>()
    }

    fn raw_call(instance: Instance, input: Erased) -> BoxFuture<'static, Erased> {
        Box::pin(async move {
            let Ok(service) = instance.downcast::<RawService>() else {
                return Box::new("wrong instance") as Erased;
            };
            let add = input.downcast::<u32>().map(|n| *n).unwrap_or(0);
            Box::new(service.0 + add) as Erased
        })
    }

    #[nestling::__private::linkme::distributed_slice(nestling::__private::METHOD_ENTRIES)]
    #[linkme(crate = nestling::__private::linkme)]
    static RAW_ENTRY: MethodEntry = MethodEntry {
        provider: raw_type_id,
        provider_name: "RawService",
        method: "handle",
        kind: "inngest.function",
        metadata: &[("id", "raw-fn"), ("trigger", "event:raw/happened")],
        call: raw_call,
    };
}

struct AppModule;
impl Module for AppModule {
    fn define(&self) -> ModuleDef {
        ModuleDef::new("AppModule")
            .import(Feature)
            .provider(Provider::value(raw::RawService(40)))
    }
}

struct Feature;
impl Module for Feature {
    fn define(&self) -> ModuleDef {
        ModuleDef::new("FeatureModule").provider(Provider::class::<Mailer>())
    }
}

#[test]
fn the_link_time_table_holds_every_entry() {
    let mut found: Vec<(&str, &str, &str)> = METHOD_ENTRIES
        .iter()
        .map(|e| (e.provider_name, e.method, e.kind))
        .collect();
    found.sort_unstable();
    for expected in [
        ("Mailer", "welcome", "test.listener"),
        ("Mailer", "farewell", "test.listener"),
        ("Mailer", "hourly", "test.cron"),
        ("Orphan", "never", "test.listener"),
        ("RawService", "handle", "inngest.function"),
    ] {
        assert!(
            found.contains(&expected),
            "the linker dropped {expected:?}; the table holds {found:?}"
        );
    }
}

#[tokio::test]
async fn only_built_providers_are_discovered_with_their_module_and_metadata() {
    let app = ApplicationContext::create(AppModule).await.unwrap();
    let discovery = app.get::<DiscoveryService>();

    let mut listeners = discovery.methods("test.listener");
    listeners.sort_by_key(|m| m.entry.method);
    let names: Vec<_> = listeners
        .iter()
        .map(|m| (m.provider_name.as_str(), m.entry.method, m.module.as_str()))
        .collect();
    assert_eq!(
        names,
        [
            ("Mailer", "farewell", "FeatureModule"),
            ("Mailer", "welcome", "FeatureModule"),
        ]
    );
    let welcome = &listeners[1];
    assert_eq!(welcome.entry.meta("event"), Some("user.created"));
    assert_eq!(welcome.entry.meta("retries"), Some("3"));

    let out = welcome.call(Box::new("ada".to_owned())).await;
    assert_eq!(*out.downcast::<String>().unwrap(), "mailer welcomes ada");
    let out = listeners[0].call(Box::new(())).await;
    assert_eq!(*out.downcast::<&str>().unwrap(), "bye");

    let raw = discovery.methods("inngest.function");
    assert_eq!(raw.len(), 1);
    assert_eq!(raw[0].module, "AppModule");
    assert_eq!(raw[0].entry.meta("id"), Some("raw-fn"));
    let out = (raw[0].entry.call)(Arc::clone(&raw[0].instance), Box::new(2u32)).await;
    assert_eq!(*out.downcast::<u32>().unwrap(), 42);
}

#[tokio::test]
async fn a_wrong_input_type_comes_back_as_a_call_mismatch() {
    let app = ApplicationContext::create(AppModule).await.unwrap();
    let welcome = app
        .get::<DiscoveryService>()
        .methods("test.listener")
        .into_iter()
        .find(|m| m.entry.method == "welcome")
        .unwrap();

    let out = welcome.call(Box::new(7u8)).await;
    let mismatch = out.downcast::<CallMismatch>().unwrap();
    assert_eq!(
        mismatch.to_string(),
        "`Mailer::welcome` expected an input of type `String`"
    );
}

#[tokio::test]
async fn providers_lists_every_built_singleton() {
    let app = ApplicationContext::create(AppModule).await.unwrap();
    let providers = app.get::<DiscoveryService>().providers();
    let mailer = providers.iter().find(|p| p.type_name == "Mailer").unwrap();
    assert_eq!(mailer.methods.len(), 3);
    assert!(providers.iter().any(|p| p.type_name == "DiscoveryService"));
    assert!(!providers.iter().any(|p| p.type_name == "Orphan"));
}
