//! Module graphs: visibility, exports, globals, dynamic modules, provider forms, errors.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use nestling::{
    ApplicationContext, AsyncOptions, DynamicModule, Error, Injectable, Module, ModuleDef, Provider,
};

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime")
}

trait Repo: Send + Sync {
    fn name(&self) -> String;
}

struct MemoryRepo;
impl Repo for MemoryRepo {
    fn name(&self) -> String {
        "memory".into()
    }
}

#[derive(Injectable)]
struct UserService {
    #[inject]
    repo: Arc<dyn Repo>,
}

struct RepoModule;
impl Module for RepoModule {
    fn define(&self) -> ModuleDef {
        ModuleDef::new("RepoModule")
            .provider(Provider::value(MemoryRepo).bind::<dyn Repo>(|r| r))
            .export::<dyn Repo>()
    }
}

struct UsersModule;
impl Module for UsersModule {
    fn define(&self) -> ModuleDef {
        ModuleDef::new("UsersModule")
            .import(RepoModule)
            .provider(Provider::class::<UserService>())
            .export::<UserService>()
    }
}

struct AppModule;
impl Module for AppModule {
    fn define(&self) -> ModuleDef {
        ModuleDef::new("AppModule").import(UsersModule)
    }
}

#[test]
fn imported_exports_are_injected_by_interface() {
    rt().block_on(async {
        let app = ApplicationContext::create(AppModule).await.unwrap();
        assert_eq!(app.get::<UserService>().repo.name(), "memory");
        assert_eq!(
            app.module_names(),
            ["CoreModule", "RepoModule", "UsersModule", "AppModule"]
        );
    });
}

#[test]
fn a_provider_not_exported_is_invisible_to_importers() {
    struct Hidden;
    struct NeedsHidden;

    struct Inner;
    impl Module for Inner {
        fn define(&self) -> ModuleDef {
            ModuleDef::new("InnerModule").provider(Provider::value(Hidden))
        }
    }
    struct Outer;
    impl Module for Outer {
        fn define(&self) -> ModuleDef {
            ModuleDef::new("OuterModule")
                .import(Inner)
                .provider(Provider::factory(|_: Arc<Hidden>| async {
                    Ok::<_, Error>(NeedsHidden)
                }))
        }
    }
    struct Root;
    impl Module for Root {
        fn define(&self) -> ModuleDef {
            ModuleDef::new("RootModule").import(Outer)
        }
    }

    rt().block_on(async {
        let err = ApplicationContext::create(Root).await.unwrap_err();
        let Error::MissingDependency {
            provider,
            missing,
            module,
            chain,
            index,
            ..
        } = &err
        else {
            panic!("expected a missing dependency, got {err}");
        };
        assert_eq!(provider, "NeedsHidden");
        assert_eq!(missing, "Hidden");
        assert_eq!(module, "OuterModule");
        assert_eq!(chain, "RootModule -> OuterModule");
        assert_eq!(*index, 1);
        let message = err.to_string();
        assert!(message.contains("add a provider of `Hidden` to the providers of `OuterModule`"));
        assert!(message.contains("import into `OuterModule` a module that provides `Hidden`"));
        assert!(message.contains("needs ?"));
    });
}

#[test]
fn globals_are_visible_without_import_and_reexports_pass_through() {
    struct Shared(u8);
    struct Relayed(u8);
    struct Consumer(u8, u8);

    struct GlobalModule;
    impl Module for GlobalModule {
        fn define(&self) -> ModuleDef {
            ModuleDef::new("GlobalModule")
                .provider(Provider::value(Shared(1)))
                .export::<Shared>()
                .global()
        }
    }
    struct Source;
    impl Module for Source {
        fn define(&self) -> ModuleDef {
            ModuleDef::new("SourceModule")
                .provider(Provider::value(Relayed(2)))
                .export::<Relayed>()
        }
    }
    struct Relay;
    impl Module for Relay {
        fn define(&self) -> ModuleDef {
            ModuleDef::new("RelayModule")
                .import(Source)
                .export_module::<Source>()
        }
    }
    struct Feature;
    impl Module for Feature {
        fn define(&self) -> ModuleDef {
            ModuleDef::new("FeatureModule")
                .import(Relay)
                .provider(Provider::factory(
                    |(shared, relayed): (Arc<Shared>, Arc<Relayed>)| async move {
                        Ok::<_, Error>(Consumer(shared.0, relayed.0))
                    },
                ))
        }
    }
    struct Root;
    impl Module for Root {
        fn define(&self) -> ModuleDef {
            ModuleDef::new("RootModule")
                .import(GlobalModule)
                .import(Feature)
        }
    }

    rt().block_on(async {
        let app = ApplicationContext::create(Root).await.unwrap();
        let consumer = app.get::<Consumer>();
        assert_eq!((consumer.0, consumer.1), (1, 2));
    });
}

#[test]
fn exporting_what_a_module_does_not_have_is_rejected() {
    struct Stranger;
    struct Bad;
    impl Module for Bad {
        fn define(&self) -> ModuleDef {
            ModuleDef::new("BadModule").export::<Stranger>()
        }
    }
    struct BadReexport;
    impl Module for BadReexport {
        fn define(&self) -> ModuleDef {
            ModuleDef::new("BadReexportModule").export_module::<RepoModule>()
        }
    }

    rt().block_on(async {
        let err = ApplicationContext::create(Bad).await.unwrap_err();
        assert!(matches!(&err, Error::UnknownExport { module, export, .. }
            if module == "BadModule" && export == "Stranger"));
        assert!(err.to_string().contains("neither provides nor imports"));

        let err = ApplicationContext::create(BadReexport).await.unwrap_err();
        assert!(
            matches!(&err, Error::UnknownReexport { reexport, .. } if reexport == "RepoModule")
        );
    });
}

#[test]
fn a_cycle_is_reported_with_its_whole_path_before_anything_is_built() {
    static BUILT: AtomicUsize = AtomicUsize::new(0);
    struct A;
    struct B;
    struct C;
    struct Left;
    impl Module for Left {
        fn define(&self) -> ModuleDef {
            ModuleDef::new("LeftModule")
                .import(Right)
                .provider(Provider::factory(|_: Arc<B>| async {
                    BUILT.fetch_add(1, Ordering::SeqCst);
                    Ok::<_, Error>(A)
                }))
                .provider(Provider::factory(|()| async {
                    BUILT.fetch_add(1, Ordering::SeqCst);
                    Ok::<_, Error>(C)
                }))
                .export::<A>()
        }
    }
    struct Right;
    impl Module for Right {
        fn define(&self) -> ModuleDef {
            ModuleDef::new("RightModule")
                .import(Left)
                .provider(Provider::factory(|_: Arc<A>| async { Ok::<_, Error>(B) }))
                .export::<B>()
        }
    }

    rt().block_on(async {
        let err = ApplicationContext::create(Left).await.unwrap_err();
        let Error::CircularDependency { path } = &err else {
            panic!("expected a cycle, got {err}");
        };
        assert_eq!(
            path,
            "A (in LeftModule) -> B (in RightModule) -> A (in LeftModule)"
        );
        assert_eq!(BUILT.load(Ordering::SeqCst), 0, "nothing is built");
    });
}

struct CountedOptions {
    label: &'static str,
}

static DYNAMIC_BUILDS: AtomicUsize = AtomicUsize::new(0);

struct CountedModule;
impl CountedModule {
    fn for_root(label: &'static str) -> DynamicModule {
        DynamicModule::new::<CountedModule>(
            AsyncOptions::factory(move |()| async move {
                DYNAMIC_BUILDS.fetch_add(1, Ordering::SeqCst);
                Ok::<_, Error>(CountedOptions { label })
            })
            .apply(ModuleDef::new("CountedModule"))
            .export::<CountedOptions>(),
        )
    }
}

#[test]
fn the_same_dynamic_module_imported_twice_is_built_once() {
    struct First;
    impl Module for First {
        fn define(&self) -> ModuleDef {
            ModuleDef::new("FirstModule").import(CountedModule::for_root("first"))
        }
    }
    struct Second;
    impl Module for Second {
        fn define(&self) -> ModuleDef {
            ModuleDef::new("SecondModule").import(CountedModule::for_root("second"))
        }
    }
    struct Root;
    impl Module for Root {
        fn define(&self) -> ModuleDef {
            ModuleDef::new("RootModule")
                .import(First)
                .import(Second)
                .import(CountedModule::for_root("root"))
        }
    }

    rt().block_on(async {
        let app = ApplicationContext::create(Root).await.unwrap();
        assert_eq!(DYNAMIC_BUILDS.load(Ordering::SeqCst), 1);
        assert_eq!(
            app.get::<CountedOptions>().label,
            "first",
            "the first met wins"
        );
        let counted = app
            .module_names()
            .into_iter()
            .filter(|m| *m == "CountedModule")
            .count();
        assert_eq!(counted, 1);
    });
}

#[test]
fn keyed_dynamic_modules_with_different_keys_are_separate() {
    #[derive(Hash)]
    struct Key(&'static str);
    struct Tag(&'static str);
    struct TagModule;
    fn register(tag: &'static str) -> DynamicModule {
        DynamicModule::new::<TagModule>(
            ModuleDef::new(format!("TagModule[{tag}]"))
                .provider(Provider::value(Tag(tag)))
                .export::<Tag>(),
        )
        .key(Key(tag))
    }
    struct Root;
    impl Module for Root {
        fn define(&self) -> ModuleDef {
            ModuleDef::new("RootModule")
                .import(register("a"))
                .import(register("b"))
                .import(register("a"))
        }
    }

    rt().block_on(async {
        let app = ApplicationContext::create(Root).await.unwrap();
        assert_eq!(
            app.get::<Tag>().0,
            "a",
            "the root sees the first import's export"
        );
        let names = app.module_names();
        assert!(names.contains(&"TagModule[a]") && names.contains(&"TagModule[b]"));
        assert_eq!(names.len(), 4, "core, a, b, root: {names:?}");
    });
}

#[test]
fn a_failing_async_factory_aborts_with_its_error_and_module_path() {
    struct Db;
    struct DbModule;
    impl Module for DbModule {
        fn define(&self) -> ModuleDef {
            ModuleDef::new("DbModule").provider(Provider::factory(|()| async {
                tokio::task::yield_now().await;
                Err::<Db, _>("connection refused")
            }))
        }
    }
    struct Root;
    impl Module for Root {
        fn define(&self) -> ModuleDef {
            ModuleDef::new("RootModule").import(DbModule)
        }
    }

    rt().block_on(async {
        let err = ApplicationContext::create(Root).await.unwrap_err();
        assert_eq!(
            err.to_string(),
            "provider `Db` of module `DbModule` (import chain: RootModule -> DbModule) failed \
             to build: connection refused"
        );
    });
}

#[test]
fn a_panicking_constructor_is_caught_and_named() {
    struct Fragile;
    impl Injectable for Fragile {
        type Deps = ();
        async fn construct((): ()) -> Result<Self, nestling::BoxError> {
            panic!("boom in constructor")
        }
    }
    struct Root;
    impl Module for Root {
        fn define(&self) -> ModuleDef {
            ModuleDef::new("RootModule").provider(Provider::class::<Fragile>())
        }
    }

    rt().block_on(async {
        let err = ApplicationContext::create(Root).await.unwrap_err();
        assert!(
            matches!(&err, Error::Panicked { provider, module, message, .. }
            if provider == "Fragile" && module == "RootModule" && message == "boom in constructor")
        );
    });
}

#[test]
fn transient_providers_are_new_for_each_consumer() {
    static MADE: AtomicUsize = AtomicUsize::new(0);
    #[derive(Injectable)]
    #[injectable(transient)]
    struct Ticket {
        #[injectable(default = MADE.fetch_add(1, Ordering::SeqCst))]
        number: usize,
    }
    #[derive(Injectable)]
    struct Desk {
        #[inject]
        ticket: Arc<Ticket>,
    }
    #[derive(Injectable)]
    struct Counter {
        #[inject]
        ticket: Arc<Ticket>,
    }
    struct Root;
    impl Module for Root {
        fn define(&self) -> ModuleDef {
            ModuleDef::new("RootModule")
                .provider(Provider::class::<Ticket>())
                .provider(Provider::class::<Desk>())
                .provider(Provider::class::<Counter>())
        }
    }

    rt().block_on(async {
        let app = ApplicationContext::create(Root).await.unwrap();
        assert_ne!(
            app.get::<Desk>().ticket.number,
            app.get::<Counter>().ticket.number
        );
        assert!(matches!(
            app.try_get::<Ticket>(),
            Err(Error::TransientViaGet { .. })
        ));
        let a = app.resolve::<Ticket>().await.unwrap();
        let b = app.resolve::<Ticket>().await.unwrap();
        assert_ne!(a.number, b.number);
        assert_eq!(MADE.load(Ordering::SeqCst), 4);
    });
}

#[test]
fn aliases_share_the_instance_and_optional_dependencies_may_be_missing() {
    trait Named: Send + Sync {
        fn name(&self) -> &str;
    }
    struct Service(String);
    impl Named for Service {
        fn name(&self) -> &str {
            &self.0
        }
    }
    struct Absent;
    #[derive(Injectable)]
    struct Report {
        #[inject]
        named: Arc<dyn Named>,
        #[inject]
        absent: Option<Arc<Absent>>,
    }
    struct Root;
    impl Module for Root {
        fn define(&self) -> ModuleDef {
            ModuleDef::new("RootModule")
                .provider(Provider::value(Service("svc".into())))
                .provider(Provider::alias::<dyn Named, Service>(|s| s))
                .provider(Provider::class::<Report>())
        }
    }

    rt().block_on(async {
        let app = ApplicationContext::create(Root).await.unwrap();
        let report = app.get::<Report>();
        assert_eq!(report.named.name(), "svc");
        assert!(report.absent.is_none());
        let concrete = app.get::<Service>();
        let via_alias = app.get::<dyn Named>();
        assert!(std::ptr::addr_eq(
            Arc::as_ptr(&concrete),
            Arc::as_ptr(&via_alias)
        ));
    });
}

#[test]
fn overrides_replace_providers_before_construction() {
    struct Mock;
    impl Repo for Mock {
        fn name(&self) -> String {
            "mock".into()
        }
    }

    rt().block_on(async {
        let app = ApplicationContext::builder(AppModule)
            .override_provider::<dyn Repo>()
            .use_factory(|()| async { Ok::<_, Error>(Arc::new(Mock) as Arc<dyn Repo>) })
            .create_context()
            .await
            .unwrap();
        assert_eq!(app.get::<UserService>().repo.name(), "mock");

        struct Unknown;
        let err = ApplicationContext::builder(AppModule)
            .override_provider::<Unknown>()
            .use_value(Arc::new(Unknown))
            .compile()
            .await
            .unwrap_err();
        assert!(matches!(err, Error::UnknownOverride { .. }));
    });
}

#[test]
fn lookups_that_fail_name_the_type_and_the_place() {
    rt().block_on(async {
        let app = ApplicationContext::create(AppModule).await.unwrap();
        let err = app.try_get::<String>().unwrap_err();
        assert_eq!(
            err.to_string(),
            "no provider of `String` is visible anywhere in the application; register it as a provider"
        );
        let err = app.root().try_get::<UserService>().unwrap();
        assert_eq!(err.repo.name(), "memory");
        let Err(err) = app.root().try_get::<dyn Repo>() else {
            panic!("the root module does not import the repo module");
        };
        assert!(err.to_string().contains("in module `AppModule`"), "{err}");
    });
}

#[test]
fn exporting_a_single_provider_of_an_import_is_rejected_as_nestjs_does() {
    struct Token;
    struct Source;
    impl Module for Source {
        fn define(&self) -> ModuleDef {
            ModuleDef::new("SourceModule")
                .provider(Provider::value(Token))
                .export::<Token>()
        }
    }
    struct Relay;
    impl Module for Relay {
        fn define(&self) -> ModuleDef {
            ModuleDef::new("RelayModule")
                .import(Source)
                .export::<Token>()
        }
    }
    struct App;
    impl Module for App {
        fn define(&self) -> ModuleDef {
            ModuleDef::new("AppModule").import(Relay)
        }
    }

    rt().block_on(async {
        let err = ApplicationContext::create(App).await.unwrap_err();
        assert!(
            matches!(&err, Error::ExportOfImport { module, export, import, chain }
                if module == "RelayModule" && export == "Token" && import == "SourceModule"
                    && chain == "AppModule -> RelayModule"),
            "{err}"
        );
        let text = err.to_string();
        assert!(text.contains("export_module"), "{text}");
    });
}
