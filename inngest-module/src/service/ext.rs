//! Typed sending on top of `InngestService`.

use async_trait::async_trait;
use nestling_inngest_protocol::{Event, ProtocolError};
use serde::Serialize;

use super::inngest_service::InngestService;
use crate::Error;

/// Sending typed payloads: any `Serialize` value becomes the event's `data`.
///
/// Implemented for every [`InngestService`], including `dyn InngestService` behind an `Arc`.
///
/// # Examples
///
/// ```no_run
/// # async fn demo(inngest: std::sync::Arc<dyn nestling_inngest::InngestService>)
/// # -> Result<(), nestling_inngest::Error> {
/// use nestling_inngest::InngestServiceExt;
///
/// #[derive(serde::Serialize)]
/// struct UserCreated {
///     id: u64,
///     email: String,
/// }
///
/// let id = inngest
///     .send_data("app/user.created", &UserCreated { id: 7, email: "a@example.com".into() })
///     .await?;
/// # Ok(())
/// # }
/// ```
#[async_trait]
pub trait InngestServiceExt {
    /// Sends one event named `name` whose `data` is `data` serialised to JSON (it must
    /// serialise to an object), and returns its id.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidEvent`] naming `data` when it does not serialise to a JSON object;
    /// otherwise as [`InngestService::send`].
    async fn send_data<T>(&self, name: &str, data: &T) -> Result<String, Error>
    where
        T: Serialize + Sync + ?Sized;
}

#[async_trait]
impl<S: InngestService + ?Sized> InngestServiceExt for S {
    async fn send_data<T>(&self, name: &str, data: &T) -> Result<String, Error>
    where
        T: Serialize + Sync + ?Sized,
    {
        let data = serde_json::to_value(data).map_err(|e| {
            Error::InvalidEvent(ProtocolError::InvalidEvent {
                index: 0,
                field: "data",
                reason: format!("cannot be serialised to JSON: {e}"),
            })
        })?;

        self.send(Event::new(name, data)).await
    }
}
