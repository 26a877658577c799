//! shaku interop: shaku components and modules as providers of the container.
//!
//! Two ways in, for the two sizes of shaku code:
//!
//! - **One component.** Derive both `shaku::Component` and [`Injectable`](crate::Injectable) on
//!   the struct. The derive reads shaku's own attributes (`#[shaku(interface = Trait)]`,
//!   `#[shaku(inject)]`, `#[shaku(default = expr)]`), so the struct stays a valid shaku
//!   component and is also a class provider whose injected interfaces come from the container
//!   and are checked with the rest of the graph.
//! - **A whole shaku module.** Its internals keep shaku's compile-time checks; what it needs
//!   from outside comes through a [`ShakuBridge`] submodule filled from the container, and what
//!   it offers is exported back with [`component`].
//!
//! shaku can't be the container itself: its graph is fixed at compile time and built
//! synchronously, it has no lifecycle and can't list its contents, while modules here are
//! configured at run time (`for_root_async`), built asynchronously, hooked and discovered.
//!
//! # Example
//!
//! ```
//! use nestling::shaku::{ShakuBridge, component};
//! use nestling::{ApplicationContext, Error, Module, ModuleDef, Provider};
//! use shaku::{Component, HasComponent, Interface, module};
//! use std::sync::Arc;
//!
//! pub trait Clock: Interface { fn now(&self) -> u64; }
//! pub trait Stamp: Interface { fn stamp(&self) -> String; }
//!
//! struct FixedClock;
//! impl Clock for FixedClock { fn now(&self) -> u64 { 1_700_000_000 } }
//!
//! #[derive(Component)]
//! #[shaku(interface = Stamp)]
//! struct Stamper { #[shaku(inject)] clock: Arc<dyn Clock> }
//! impl Stamp for Stamper {
//!     fn stamp(&self) -> String { format!("t={}", self.clock.now()) }
//! }
//!
//! module! {
//!     StampModule {
//!         components = [Stamper],
//!         providers = [],
//!         use ShakuBridge { components = [dyn Clock], providers = [] }
//!     }
//! }
//!
//! struct AppModule;
//! impl Module for AppModule {
//!     fn define(&self) -> ModuleDef {
//!         ModuleDef::new("AppModule")
//!             .provider(Provider::value(FixedClock).bind::<dyn Clock>(|c| c))
//!             // Build the shaku module from the container's `dyn Clock`...
//!             .provider(Provider::factory(|clock: Arc<dyn Clock>| async move {
//!                 let bridge = ShakuBridge::new().with::<dyn Clock>(clock);
//!                 Ok::<_, Error>(StampModule::builder(Arc::new(bridge)).build())
//!             }))
//!             // ...and export its `dyn Stamp` into the container.
//!             .provider(component::<StampModule, dyn Stamp>())
//!     }
//! }
//!
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! let app = ApplicationContext::create(AppModule).await.unwrap();
//! assert_eq!(app.get::<dyn Stamp>().stamp(), "t=1700000000");
//! # });
//! ```

use std::any::{Any, TypeId, type_name};
use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use shaku::{HasComponent, Interface, ModuleBuildContext};

use crate::Provider;

/// A shaku submodule whose components are instances taken from the container.
///
/// List it in a `module!`'s `use ShakuBridge { components = [dyn Dep, ...], providers = [] }`
/// and fill it with [`with`](Self::with) in the factory that builds the shaku module. An
/// interface listed there but not filled makes the factory panic with the interface's name;
/// the container catches the panic and reports it with the provider's name.
#[derive(Default)]
pub struct ShakuBridge {
    components: HashMap<TypeId, (Box<dyn Any + Send + Sync>, &'static str)>,
}

impl fmt::Debug for ShakuBridge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.components.values().map(|(_, name)| name))
            .finish()
    }
}

impl ShakuBridge {
    /// An empty bridge.
    pub fn new() -> Self {
        Self::default()
    }

    /// Offers `component` as the interface `I` to the shaku module.
    pub fn with<I: ?Sized + Interface>(mut self, component: Arc<I>) -> Self {
        self.components
            .insert(TypeId::of::<I>(), (Box::new(component), type_name::<I>()));
        self
    }

    fn find<I: ?Sized + Interface>(&self) -> &Arc<I> {
        let found = self
            .components
            .get(&TypeId::of::<I>())
            .and_then(|(component, _)| component.downcast_ref::<Arc<I>>());
        match found {
            Some(component) => component,
            None => panic!(
                "the shaku module uses `{}` from its ShakuBridge, but the bridge was not given \
                 one; inject it in the factory and add it with `.with::<{}>(..)`",
                type_name::<I>(),
                type_name::<I>(),
            ),
        }
    }
}

impl shaku::Module for ShakuBridge {
    type Submodules = ();

    fn build(_: ModuleBuildContext<Self>) -> Self {
        Self::default()
    }
}

impl<I: ?Sized + Interface> HasComponent<I> for ShakuBridge {
    /// Only reached when a bridge is built by shaku itself, which holds nothing: a bridge is
    /// always made with [`ShakuBridge::new`] and filled from the container.
    fn build_component(_: &mut ModuleBuildContext<Self>) -> Arc<I> {
        panic!(
            "a ShakuBridge built by shaku has no `{}`; make it with ShakuBridge::new().with(..)",
            type_name::<I>()
        )
    }

    fn resolve(&self) -> Arc<I> {
        Arc::clone(self.find::<I>())
    }

    fn resolve_ref(&self) -> &I {
        self.find::<I>()
    }
}

/// A provider of the interface `I`, resolved from the shaku module `M` (itself a provider).
///
/// Like an alias, it follows `M`'s scope and shares `M`'s instance of the component.
pub fn component<M, I>() -> Provider
where
    M: HasComponent<I> + Send + Sync + 'static,
    I: ?Sized + Interface,
{
    Provider::factory_arc(|module: Arc<M>| async move {
        Ok::<_, crate::Error>(<M as HasComponent<I>>::resolve(&*module))
    })
}
