//! The compile-time contract of beam's macros: every case in `tests/pass` compiles, every
//! case in `tests/fail` fails with the error recorded beside it (`TRYBUILD=overwrite`
//! regenerates the `.stderr` files, which are reviewed like code).

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.pass("tests/pass/*.rs");
    t.compile_fail("tests/fail/*.rs");
}
