//! Declared dependencies: what a class or factory injects, known before anything is built.

use std::sync::Arc;

use crate::container::Resolver;
use crate::{Error, Token};

/// One declared dependency of a provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dependency {
    /// The type injected.
    pub token: Token,
    /// Whether a missing provider is allowed (it is injected as `None`).
    pub optional: bool,
}

impl Dependency {
    /// A dependency that must be satisfied.
    pub fn required<T: ?Sized + 'static>() -> Self {
        Self {
            token: Token::of::<T>(),
            optional: false,
        }
    }

    /// A dependency injected as `None` when no provider is visible.
    pub fn optional<T: ?Sized + 'static>() -> Self {
        Self {
            token: Token::of::<T>(),
            optional: true,
        }
    }
}

/// A set of injected values whose types are known up front: `Arc<T>`, `Option<Arc<T>>`, `()`
/// and tuples of these (nested tuples too).
///
/// Factories take one `Dependencies` argument, and `Injectable::Deps` is one, so the types a
/// provider declares are exactly the types it receives.
///
/// # Example
///
/// ```
/// use nestling::{Dependencies, Dependency};
/// use std::sync::Arc;
///
/// trait Clock: Send + Sync {}
///
/// let mut declared = Vec::new();
/// <(Arc<String>, Option<Arc<dyn Clock>>)>::declare(&mut declared);
/// assert_eq!(declared, vec![Dependency::required::<String>(), Dependency::optional::<dyn Clock>()]);
/// ```
pub trait Dependencies: Sized + Send + 'static {
    /// Appends the declared dependencies, in order.
    fn declare(out: &mut Vec<Dependency>);

    /// Takes the values out of the built container.
    ///
    /// # Errors
    ///
    /// Fails when a required value is not visible or was not declared.
    fn resolve(resolver: &Resolver<'_>) -> Result<Self, Error>;
}

impl Dependencies for () {
    fn declare(_: &mut Vec<Dependency>) {}

    fn resolve(_: &Resolver<'_>) -> Result<Self, Error> {
        Ok(())
    }
}

impl<T: ?Sized + Send + Sync + 'static> Dependencies for Arc<T> {
    fn declare(out: &mut Vec<Dependency>) {
        out.push(Dependency::required::<T>());
    }

    fn resolve(resolver: &Resolver<'_>) -> Result<Self, Error> {
        resolver.get::<T>()
    }
}

impl<T: ?Sized + Send + Sync + 'static> Dependencies for Option<Arc<T>> {
    fn declare(out: &mut Vec<Dependency>) {
        out.push(Dependency::optional::<T>());
    }

    fn resolve(resolver: &Resolver<'_>) -> Result<Self, Error> {
        resolver.get_optional::<T>()
    }
}

macro_rules! tuple_dependencies {
    ($($name:ident),+) => {
        impl<$($name: Dependencies),+> Dependencies for ($($name,)+) {
            fn declare(out: &mut Vec<Dependency>) {
                $($name::declare(out);)+
            }

            fn resolve(resolver: &Resolver<'_>) -> Result<Self, Error> {
                Ok(($($name::resolve(resolver)?,)+))
            }
        }
    };
}

tuple_dependencies!(A);
tuple_dependencies!(A, B);
tuple_dependencies!(A, B, C);
tuple_dependencies!(A, B, C, D);
tuple_dependencies!(A, B, C, D, E);
tuple_dependencies!(A, B, C, D, E, F);
tuple_dependencies!(A, B, C, D, E, F, G);
tuple_dependencies!(A, B, C, D, E, F, G, H);
tuple_dependencies!(A, B, C, D, E, F, G, H, I);
tuple_dependencies!(A, B, C, D, E, F, G, H, I, J);
tuple_dependencies!(A, B, C, D, E, F, G, H, I, J, K);
tuple_dependencies!(A, B, C, D, E, F, G, H, I, J, K, L);
