//! Compile-time errors of the function attributes, one file per class of mistake.
//!
//! Most cases use the macro crate directly, with stand-in context types, so that they check only
//! what the macro reports; `context_type.rs` uses the runtime, to show what the compiler says
//! when a handler's types do not fit it. Bless new messages with
//! `TRYBUILD=overwrite cargo test -p nestling-inngest-macros --test ui`, then read each
//! `.stderr` file: it is what users will see.

#[test]
fn attribute_errors() {
    let cases = trybuild::TestCases::new();
    cases.compile_fail("tests/ui/fail/*.rs");
}
