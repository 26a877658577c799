//! The quick-start app: when a user is created, send the welcome email and create the profile
//! as durable steps, then send a follow-up event.
//!
//! With no Inngest server configured, `InngestModule` starts Nestling's embedded engine in the
//! process and registers the app with it once it listens; set `INNGEST_DEV=1` (and
//! `INNGEST_BASE_URL`) to use the Inngest dev server instead.

use nestling::{Injectable, Module, ModuleDef, NestlingApplication, Provider};
use nestling_inngest::{Ctx, Event, FunctionError, InngestModule, InngestModuleOptions, functions};
use serde::{Deserialize, Serialize};

/// The `data` of a `user.created` event.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct UserCreated {
    /// The new user's id.
    pub user_id: String,
    /// Where to send the welcome email.
    pub email: String,
}

/// What the run returns.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Welcome {
    /// The user.
    pub user_id: String,
    /// Whether the email went out.
    pub email_sent: bool,
    /// The id of the profile created.
    pub profile_id: String,
    /// The id of the follow-up event.
    pub follow_up_event: String,
}

/// The service whose methods are Inngest functions.
#[derive(Debug, Default, Injectable)]
pub struct UserService;

#[functions]
impl UserService {
    /// Welcomes a new user in three durable steps.
    #[on_event("user.created")]
    #[retries(3)]
    async fn welcome_new_user(&self, ctx: Ctx<UserCreated>) -> Result<Welcome, FunctionError> {
        let user = ctx.event.data.clone();

        let email = user.email.clone();
        let email_sent: bool = ctx
            .step
            .run("send-welcome-email", || async move {
                tracing::info!(%email, "sending the welcome email");
                Ok::<_, FunctionError>(true)
            })
            .await?;

        let user_id = user.user_id.clone();
        let profile_id: String = ctx
            .step
            .run("create-user-profile", || async move {
                Ok::<_, FunctionError>(format!("profile-{user_id}"))
            })
            .await?;

        let ids = ctx
            .step
            .send_event(
                "schedule-follow-up",
                Event::new("user.follow-up", user.clone()),
            )
            .await?;

        ctx.logger.info(format!("welcomed {}", user.user_id));
        Ok(Welcome {
            user_id: user.user_id,
            email_sent,
            profile_id,
            follow_up_event: ids.into_iter().next().unwrap_or_default(),
        })
    }
}

/// The root module.
#[derive(Debug, Default)]
pub struct AppModule;

impl Module for AppModule {
    fn define(&self) -> ModuleDef {
        ModuleDef::new("AppModule")
            .import(InngestModule::for_root(InngestModuleOptions::new(
                "basic-app",
            )))
            .provider(Provider::class::<UserService>())
    }
}

/// Builds the application.
///
/// # Errors
///
/// Any start-up error of the container or the Inngest module.
pub async fn create_app() -> Result<NestlingApplication, nestling::Error> {
    NestlingApplication::create(AppModule).await
}
