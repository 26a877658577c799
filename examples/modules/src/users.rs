//! The users module: injects `dyn Greeter` from the greeting module.

use std::sync::{Arc, RwLock};

use nestling::{Injectable, Module, ModuleDef, Provider};
use poem::web::{Data, Json};
use poem::{EndpointExt, Route, get, handler};
use serde::{Deserialize, Serialize};

use crate::{Greeter, Stats};

/// A registered user.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct User {
    /// The user's name.
    pub name: String,
    /// What the greeter said on registration.
    pub welcome: String,
}

/// The users registered so far, in memory.
#[derive(Injectable)]
pub struct UserStore {
    #[inject]
    greeter: Arc<dyn Greeter>,
    #[inject]
    stats: Arc<Stats>,
    users: RwLock<Vec<User>>,
}

impl std::fmt::Debug for UserStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserStore").finish_non_exhaustive()
    }
}

impl UserStore {
    /// Registers `name` and greets them.
    pub fn register(&self, name: String) -> User {
        let user = User {
            welcome: self.greeter.greet(&name),
            name,
        };
        self.users
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(user.clone());
        self.stats.count_user();

        user
    }

    /// Every user, in registration order.
    pub fn all(&self) -> Vec<User> {
        self.users
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }
}

#[derive(Deserialize)]
struct NewUser {
    name: String,
}

#[handler]
fn list(store: Data<&Arc<UserStore>>) -> Json<Vec<User>> {
    Json(store.all())
}

#[handler]
fn create(store: Data<&Arc<UserStore>>, Json(new): Json<NewUser>) -> Json<User> {
    Json(store.register(new.name))
}

/// The users module.
#[derive(Debug)]
pub struct UsersModule;

impl Module for UsersModule {
    fn define(&self) -> ModuleDef {
        ModuleDef::new("UsersModule")
            .provider(Provider::class::<UserStore>())
            .export::<UserStore>()
            .route("/users", |ctx| {
                let store = ctx.module().try_get::<UserStore>()?;
                Ok(Route::new().at("/", get(list).post(create)).data(store))
            })
    }
}
