//! The container: the checked graph, its built instances, and resolution.

mod build;
pub(crate) mod graph;

use std::any::TypeId;
use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, OnceLock};

pub(crate) use build::build_singletons;
use graph::{Graph, ModuleId, ProviderId};

use crate::provider::{Built, Scope, Stored};
use crate::{Error, Token};

/// The built graph, shared by the application, module references and the discovery service.
pub(crate) struct Inner {
    pub(crate) graph: Graph,
    pub(crate) slots: Vec<OnceLock<Built>>,
}

impl fmt::Debug for Inner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Container")
            .field("modules", &self.graph.modules.len())
            .field("providers", &self.graph.providers.len())
            .finish()
    }
}

impl Inner {
    pub(crate) fn new(graph: Graph) -> Self {
        let slots = (0..graph.providers.len())
            .map(|_| OnceLock::new())
            .collect();

        Self { graph, slots }
    }

    /// Finds the provider of `token`: strictly among what `module` sees, or (without a module)
    /// first what the root module sees, then any module's own providers, as NestJS's
    /// non-strict `app.get` does.
    pub(crate) fn lookup(&self, module: Option<ModuleId>, token: Token) -> Option<ProviderId> {
        match module {
            Some(module) => self.graph.modules[module].visible.get(&token).copied(),
            None => self.graph.modules[self.graph.root]
                .visible
                .get(&token)
                .copied()
                .or_else(|| {
                    self.graph
                        .order
                        .iter()
                        .find_map(|&m| self.graph.modules[m].own.get(&token).copied())
                }),
        }
    }

    fn context(&self, module: Option<ModuleId>) -> String {
        match module {
            Some(module) => format!(
                "in module `{}` (import chain: {})",
                self.graph.modules[module].name,
                self.graph.chain(module)
            ),
            None => "anywhere in the application".to_owned(),
        }
    }

    /// Returns the shared instance of `T`.
    pub(crate) fn get<T: ?Sized + Send + Sync + 'static>(
        &self,
        module: Option<ModuleId>,
    ) -> Result<Arc<T>, Error> {
        let token = Token::of::<T>();
        let Some(pid) = self.lookup(module, token) else {
            return Err(Error::not_found(token.name(), self.context(module)));
        };
        if self.graph.providers[pid].scope == Scope::Transient {
            return Err(Error::TransientViaGet {
                type_name: token.name(),
            });
        }
        let Some(built) = self.slots[pid].get() else {
            return Err(Error::not_found(
                token.name(),
                format!("{} yet (it is not built)", self.context(module)),
            ));
        };

        downcast::<T>(&built.value)
    }

    /// Returns the shared instance of `T`, or a new one if `T` is transient.
    pub(crate) async fn resolve<T: ?Sized + Send + Sync + 'static>(
        &self,
        module: Option<ModuleId>,
    ) -> Result<Arc<T>, Error> {
        let token = Token::of::<T>();
        let Some(pid) = self.lookup(module, token) else {
            return Err(Error::not_found(token.name(), self.context(module)));
        };
        if self.graph.providers[pid].scope == Scope::Singleton {
            return self.get::<T>(module);
        }
        let built = build::construct(self, pid).await?;

        downcast::<T>(&built.value)
    }
}

fn downcast<T: ?Sized + Send + Sync + 'static>(value: &Stored) -> Result<Arc<T>, Error> {
    value.downcast_ref::<Arc<T>>().cloned().ok_or_else(|| {
        // Unreachable through the public API (slots are filled by the provider of the same
        // token); reported rather than panicking all the same.
        Error::not_found(
            Token::of::<T>().name(),
            "with that type (the slot holds another type)".to_owned(),
        )
    })
}

/// Hands a constructor or factory the dependencies it declared.
///
/// Given to [`Dependencies::resolve`](crate::Dependencies::resolve); you only meet it when
/// implementing [`Dependencies`](crate::Dependencies) for your own type.
pub struct Resolver<'a> {
    inner: &'a Inner,
    provider: ProviderId,
    transients: &'a HashMap<TypeId, Stored>,
}

impl fmt::Debug for Resolver<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Resolver")
            .field(
                "provider",
                &self.inner.graph.providers[self.provider].def.token,
            )
            .finish_non_exhaustive()
    }
}

impl Resolver<'_> {
    /// Returns the declared dependency `T`.
    ///
    /// # Errors
    ///
    /// [`Error::UndeclaredDependency`] when `T` is not declared, [`Error::NotFound`] when it is
    /// optional and missing.
    pub fn get<T: ?Sized + Send + Sync + 'static>(&self) -> Result<Arc<T>, Error> {
        self.get_optional::<T>()?.ok_or_else(|| {
            Error::not_found(
                Token::of::<T>().name(),
                format!("for `{}`", self.provider_name()),
            )
        })
    }

    /// Returns the declared dependency `T`, or `None` when it is optional and missing.
    ///
    /// # Errors
    ///
    /// [`Error::UndeclaredDependency`] when `T` is not declared.
    pub fn get_optional<T: ?Sized + Send + Sync + 'static>(&self) -> Result<Option<Arc<T>>, Error> {
        let token = Token::of::<T>();
        let node = &self.inner.graph.providers[self.provider];
        let Some(index) = node.def.deps.iter().position(|d| d.token == token) else {
            return Err(Error::UndeclaredDependency {
                provider: self.provider_name(),
                type_name: token.name(),
            });
        };
        let Some(target) = node.deps.get(index).copied().flatten() else {
            return Ok(None);
        };
        let stored = match self.transients.get(&token.type_id()) {
            Some(stored) => stored,
            None => match self.inner.slots[target].get() {
                Some(built) => &built.value,
                None => {
                    return Err(Error::not_found(
                        token.name(),
                        format!("for `{}` (it is not built yet)", self.provider_name()),
                    ));
                }
            },
        };

        downcast::<T>(stored).map(Some)
    }

    fn provider_name(&self) -> String {
        self.inner.graph.providers[self.provider].def.token.name()
    }
}

/// A module's view of the container: what the module's own providers could inject (NestJS's
/// `ModuleRef`). Route factories get one.
#[derive(Clone)]
pub struct ModuleRef {
    pub(crate) inner: Arc<Inner>,
    pub(crate) module: ModuleId,
}

impl fmt::Debug for ModuleRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ModuleRef")
            .field("module", &self.name())
            .finish()
    }
}

impl ModuleRef {
    /// The module's name.
    pub fn name(&self) -> &str {
        &self.inner.graph.modules[self.module].name
    }

    /// Returns the shared instance of `T` visible in this module.
    ///
    /// # Errors
    ///
    /// [`Error::NotFound`] when the module can't see `T`, [`Error::TransientViaGet`] when `T`
    /// is transient.
    pub fn try_get<T: ?Sized + Send + Sync + 'static>(&self) -> Result<Arc<T>, Error> {
        self.inner.get::<T>(Some(self.module))
    }

    /// Returns the shared instance of `T` visible in this module.
    ///
    /// # Panics
    ///
    /// When [`try_get`](Self::try_get) fails, with its message.
    #[track_caller]
    pub fn get<T: ?Sized + Send + Sync + 'static>(&self) -> Arc<T> {
        self.try_get::<T>().unwrap_or_else(|err| panic!("{err}"))
    }

    /// Returns the shared instance of `T`, or a new one when `T` is transient.
    ///
    /// # Errors
    ///
    /// When the module can't see `T` or building a transient instance fails.
    pub async fn resolve<T: ?Sized + Send + Sync + 'static>(&self) -> Result<Arc<T>, Error> {
        self.inner.resolve::<T>(Some(self.module)).await
    }
}
