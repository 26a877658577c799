//! Compile-fail tests: the macros' error messages, pinned in `tests/ui/*.stderr`.

#[test]
fn macro_errors_are_clear() {
    let cases = trybuild::TestCases::new();
    cases.compile_fail("tests/ui/*.rs");
}
