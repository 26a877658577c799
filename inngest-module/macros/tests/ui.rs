//! Compile-time errors of the function attributes, one file per class of mistake.
//!
//! The failing cases use the macro crate directly, with stand-in context types, so that they
//! check only what the macro reports and build in seconds. Bless new messages with
//! `TRYBUILD=overwrite cargo test -p nestling-inngest-macros --test ui`, then read each
//! `.stderr` file: it is what users will see.

#[test]
fn attribute_errors() {
    let cases = trybuild::TestCases::new();
    cases.compile_fail("tests/ui/fail/*.rs");
}
