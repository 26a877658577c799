//! Compile-fail tests: the error messages of the macros, pinned in `tests/ui/*.stderr`.

#[test]
fn macro_errors_are_clear() {
    let cases = trybuild::TestCases::new();
    cases.compile_fail("tests/ui/*.rs");
}
