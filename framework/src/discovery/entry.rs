//! The link-time table of annotated methods.
//!
//! Attribute macros on an `impl` block (ours, and those of modules such as `nestling-inngest`)
//! add one [`MethodEntry`] per annotated method to [`METHOD_ENTRIES`], a `linkme` distributed
//! slice. Nothing runs before `main`: the linker gathers the entries, and the discovery service
//! joins them with the instances the container built, by the provider's [`TypeId`], so that only
//! providers that are part of the application's graph are discovered.

use std::any::{Any, TypeId};
use std::sync::Arc;

use futures::future::BoxFuture;

/// A type-erased provider instance, as the container stores it.
pub type Instance = Arc<dyn Any + Send + Sync>;

/// A type-erased value passed to or returned from a discovered method.
pub type Erased = Box<dyn Any + Send>;

/// Calls one annotated method on a built instance.
///
/// The first argument is the instance of the provider the method belongs to; the shim the macro
/// generates downcasts it to the concrete type, downcasts the input to the type the method's
/// kind agrees on (the Inngest module, for example, passes its own invocation type), runs the
/// method and boxes its output the same way.
pub type MethodCall = fn(instance: Instance, input: Erased) -> BoxFuture<'static, Erased>;

/// One annotated method of one provider type, as recorded at compile time.
#[derive(Debug, Clone, Copy)]
pub struct MethodEntry {
    /// The [`TypeId`] of the provider's concrete type (a function, since `TypeId::of` is not
    /// usable in every `const` context).
    pub provider: fn() -> TypeId,
    /// The provider's type name, for logs and errors.
    pub provider_name: &'static str,
    /// The method's name.
    pub method: &'static str,
    /// What the method is, in a namespace its consumer chooses, such as `"inngest.function"`.
    pub kind: &'static str,
    /// Key/value metadata the attribute attached, in declaration order.
    pub metadata: &'static [(&'static str, &'static str)],
    /// The type-erased shim that calls the method on a built instance.
    pub call: MethodCall,
}

impl MethodEntry {
    /// Returns the value of the first metadata pair with this key.
    pub fn meta(&self, key: &str) -> Option<&'static str> {
        self.metadata
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| *v)
    }
}

/// Every annotated method linked into the program.
///
/// Macros add to it with `#[linkme::distributed_slice(METHOD_ENTRIES)]`, through the
/// re-export in `nestling::__private`.
#[linkme::distributed_slice]
pub static METHOD_ENTRIES: [MethodEntry];
