//! What the module does with its options, over real HTTP on loopback: the serve endpoint is
//! mounted where a `for_root_async` factory says, and the module's visibility is the one
//! given next to the factory.

use std::sync::Arc;

use nestling::{
    AsyncOptions, ConfigModule, ConfigOptions, ConfigService, DynamicModule, Module, ModuleDef,
    NestlingApplication, Provider,
};
use nestling_inngest::{InngestModule, InngestService};

use super::*;

/// Options a test factory returns: a dev server, no registration, so nothing leaves loopback.
fn quiet(id: &str) -> InngestModuleOptions {
    InngestModuleOptions::new(id)
        .dev(true)
        .disable_auto_registration(true)
}

/// A config module holding `inngest.*` keys, as an app's configuration would.
fn config(pairs: &[(&str, &str)]) -> DynamicModule {
    let options = pairs
        .iter()
        .fold(ConfigOptions::new().without_files(), |options, (k, v)| {
            options.set_default(*k, *v)
        });
    ConfigModule::for_root(options)
}

/// `InngestModule::for_root_async` whose factory reads its options from the config module.
fn from_config(pairs: &[(&str, &str)], global: bool) -> DynamicModule {
    InngestModule::for_root_async(
        AsyncOptions::factory(|config: Arc<ConfigService>| async move {
            let options: InngestModuleOptions = config.get("inngest")?;
            Ok::<_, nestling::Error>(options.dev(true).disable_auto_registration(true))
        })
        .import(config(pairs))
        .is_global(global),
    )
}

struct Root(Vec<DynamicModule>);

impl Module for Root {
    fn define(&self) -> ModuleDef {
        self.0
            .iter()
            .cloned()
            .fold(ModuleDef::new("AppModule"), ModuleDef::import)
    }
}

async fn status(url: &str) -> (u16, String) {
    let response = reqwest::get(url).await.expect("the app answers");
    let status = response.status().as_u16();
    (status, response.text().await.unwrap_or_default())
}

#[tokio::test]
async fn a_factory_chosen_path_serves_introspection_there_and_nowhere_else() {
    let inngest = from_config(
        &[
            ("inngest.id", "async-app"),
            ("inngest.path", "/hooks/inngest"),
        ],
        false,
    );
    let app = NestlingApplication::builder(Root(vec![inngest]))
        .global_prefix("api")
        .create()
        .await
        .expect("the app starts");
    assert_eq!(app.routes()[0].path, "/api/hooks/inngest");
    let resolved = app.get::<ResolvedOptions>();
    assert_eq!(
        resolved.serve_path, "/api/hooks/inngest",
        "the sync URL names the path the endpoint is really mounted at"
    );
    let server = app.start("127.0.0.1:0").await.expect("the app listens");
    let origin = server.url();

    let (code, body) = status(&format!("{origin}/api/hooks/inngest")).await;
    assert_eq!(code, 200, "{body}");
    let introspection: serde_json::Value = serde_json::from_str(&body).expect("JSON");
    assert_eq!(introspection["mode"], "dev", "{body}");
    assert_eq!(introspection["function_count"], 0, "{body}");

    for elsewhere in ["/api/inngest", "/hooks/inngest", "/api/hooks"] {
        let (code, _) = status(&format!("{origin}{elsewhere}")).await;
        assert_eq!(code, 404, "{elsewhere} must not serve the endpoint");
    }

    server.close().await.expect("the app stops");
}

#[tokio::test]
async fn for_root_mounts_at_its_path_option() {
    let inngest = InngestModule::for_root(quiet("root-app").path("custom/inngest/"));
    let app = NestlingApplication::create(Root(vec![inngest]))
        .await
        .expect("the app starts");
    let server = app.start("127.0.0.1:0").await.expect("the app listens");

    let (code, body) = status(&format!("{}/custom/inngest", server.url())).await;
    assert_eq!(code, 200, "{body}");
    let (code, _) = status(&format!("{}/api/inngest", server.url())).await;
    assert_eq!(code, 404);

    server.close().await.expect("the app stops");
}

#[tokio::test]
async fn a_bad_path_from_the_factory_fails_start_up_naming_the_field() {
    let inngest = from_config(&[("inngest.id", "bad"), ("inngest.path", "/a b")], false);
    let err = NestlingApplication::create(Root(vec![inngest]))
        .await
        .expect_err("a path with a space is rejected");
    let text = err.to_string();
    assert!(text.contains("`path`"), "{text}");
}

/// A module outside the Inngest module that injects `Arc<dyn InngestService>` without
/// importing anything: it sees the service only when the Inngest module is global.
struct Mailer;

struct MailModule;

impl Module for MailModule {
    fn define(&self) -> ModuleDef {
        ModuleDef::new("MailModule").provider(Provider::factory(
            |_inngest: Arc<dyn InngestService>| async { Ok::<_, nestling::Error>(Mailer) },
        ))
    }
}

struct WithMail(DynamicModule);

impl Module for WithMail {
    fn define(&self) -> ModuleDef {
        ModuleDef::new("AppModule")
            .import(self.0.clone())
            .import(MailModule)
    }
}

#[tokio::test]
async fn for_root_async_is_not_global_unless_asked() {
    let local = from_config(&[("inngest.id", "local")], false);
    let err = NestlingApplication::create(WithMail(local))
        .await
        .expect_err("MailModule cannot see a non-global Inngest module");
    assert!(
        matches!(err, nestling::Error::MissingDependency { ref module, .. } if module == "MailModule"),
        "{err}"
    );

    let global = from_config(&[("inngest.id", "global")], true);
    let app = NestlingApplication::create(WithMail(global))
        .await
        .expect("MailModule sees the global Inngest module");
    let resolved = app.get::<ResolvedOptions>();
    assert!(resolved.is_global, "the resolved options tell the truth");
}

#[tokio::test]
async fn a_factory_contradicting_the_visibility_is_an_error_naming_is_global() {
    let inngest = InngestModule::for_root_async(AsyncOptions::factory(|()| async {
        Ok::<_, nestling::Error>(quiet("contradiction").is_global(true))
    }));
    let err = NestlingApplication::create(Root(vec![inngest]))
        .await
        .expect_err("the factory asks for a visibility the module was not defined with");
    let text = err.to_string();
    assert!(
        text.contains("`is_global`") && text.contains("AsyncOptions::is_global(true)"),
        "{text}"
    );

    let agreeing = InngestModule::for_root_async(
        AsyncOptions::factory(|()| async {
            Ok::<_, nestling::Error>(quiet("agreeing").is_global(true))
        })
        .is_global(true),
    );
    NestlingApplication::create(Root(vec![agreeing]))
        .await
        .expect("the same visibility on both sides is fine");
}
