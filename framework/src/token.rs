//! Tokens: the keys providers are registered and resolved under.

use std::any::{TypeId, type_name};
use std::fmt;
use std::hash::{Hash, Hasher};

/// The key of a provider: the type it is resolved as, concrete (`UserService`) or an interface
/// (`dyn Greeter`).
///
/// Two tokens are equal when their types are; the name is kept for messages.
///
/// # Example
///
/// ```
/// use nestling::Token;
///
/// trait Greeter {}
/// assert_eq!(Token::of::<dyn Greeter>(), Token::of::<dyn Greeter>());
/// assert_ne!(Token::of::<String>(), Token::of::<u32>());
/// assert_eq!(Token::of::<Vec<String>>().name(), "Vec<String>");
/// ```
#[derive(Clone, Copy)]
pub struct Token {
    id: TypeId,
    full_name: &'static str,
}

impl Token {
    /// The token of `T`.
    pub fn of<T: ?Sized + 'static>() -> Self {
        Self {
            id: TypeId::of::<T>(),
            full_name: type_name::<T>(),
        }
    }

    /// The [`TypeId`] of the token's type.
    pub fn type_id(&self) -> TypeId {
        self.id
    }

    /// The type's name without module paths (`dyn Greeter`, `Vec<String>`), for messages.
    pub fn name(&self) -> String {
        short_type_name(self.full_name)
    }

    /// The type's full name, as [`std::any::type_name`] gives it.
    pub fn full_name(&self) -> &'static str {
        self.full_name
    }
}

impl PartialEq for Token {
    fn eq(&self, other: &Self) -> bool {
        self.id == other.id
    }
}

impl Eq for Token {}

impl Hash for Token {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.id.hash(state);
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Token({})", self.name())
    }
}

impl fmt::Display for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name())
    }
}

/// Drops the module path of every path segment: `alloc::sync::Arc<dyn app::Greeter>` becomes
/// `Arc<dyn Greeter>`.
pub(crate) fn short_type_name(full: &str) -> String {
    let mut out = String::with_capacity(full.len());
    let mut segment = String::new();
    for c in full.chars() {
        if c.is_alphanumeric() || c == '_' || c == ':' {
            segment.push(c);
        } else {
            out.push_str(segment.rsplit("::").next().unwrap_or(&segment));
            segment.clear();
            out.push(c);
        }
    }
    out.push_str(segment.rsplit("::").next().unwrap_or(&segment));

    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_names_drop_paths_inside_generics() {
        assert_eq!(
            short_type_name("alloc::sync::Arc<dyn app::svc::Greeter + core::marker::Send>"),
            "Arc<dyn Greeter + Send>"
        );
        assert_eq!(short_type_name("u32"), "u32");
        assert_eq!(short_type_name("(a::A, b::B)"), "(A, B)");
    }
}
