//! Event-name wildcards: a trigger `app/*` or `app/user.*` matches by prefix at `/` and `.`
//! boundaries, the way the Inngest server expands an event name into its pattern set.

/// Whether a trigger's event name (possibly ending in `*`) matches an event's name.
///
/// The pattern set of `a/b.c` is `a/b.c`, `a/*`, `a/b.*`; a trigger matches when it is one of
/// them. A `*` anywhere but after the last `/` or `.` never matches, as on the server.
pub(crate) fn matches(trigger: &str, event: &str) -> bool {
    if trigger == event {
        return true;
    }
    let Some(prefix) = trigger.strip_suffix('*') else {
        return false;
    };
    if !(prefix.ends_with('/') || prefix.ends_with('.')) || prefix.contains('*') {
        return false;
    }
    event.len() > prefix.len() && event.starts_with(prefix)
}

/// Whether a trigger name is acceptable at registration.
pub(crate) fn valid_trigger(name: &str) -> bool {
    match name.find('*') {
        None => !name.is_empty(),
        Some(i) => i == name.len() - 1 && (name[..i].ends_with('/') || name[..i].ends_with('.')),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expands_at_slash_and_dot_boundaries() {
        assert!(matches("a/b.c.d", "a/b.c.d"));
        assert!(matches("a/*", "a/b.c.d"));
        assert!(matches("a/b.*", "a/b.c.d"));
        assert!(matches("a/b.c.*", "a/b.c.d"));
        assert!(!matches("a/b.c.d.*", "a/b.c.d"));
        assert!(!matches("a/b*", "a/bc"));
        assert!(!matches("*", "a/b"));
        assert!(!matches("a/c.*", "a/b.c"));
        assert!(!matches("a/b", "a/b.c"));
    }

    #[test]
    fn validates_trigger_names() {
        assert!(valid_trigger("app/user.*"));
        assert!(valid_trigger("app/user.created"));
        assert!(!valid_trigger("app/*/x"));
        assert!(!valid_trigger("app*"));
        assert!(!valid_trigger(""));
    }
}
