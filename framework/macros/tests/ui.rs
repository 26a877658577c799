//! Compile-fail tests: the error messages of the macros, pinned in `tests/ui/*.stderr`. They
//! run here, not in `nestling`, so that trybuild builds only `nestling` and its dependencies.

#[test]
fn macro_errors_are_clear() {
    let cases = trybuild::TestCases::new();
    cases.compile_fail("tests/ui/*.rs");
}
