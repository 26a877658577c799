//! Writes the boot benchmark's module graph (`graph.rs` in `OUT_DIR`): the same shape as the
//! NestJS peer that `bench/nest/gen.mjs` writes. Module `M<i>` provides `A<i>` and `B<i>` and
//! exports both; it imports `M<i-1>`, whose `A<i-1>` and `B<i-1>` its providers inject (each
//! keeps its dependency type-erased, as a JS object would: a chain of 100 nested `Arc` types
//! overflows the compiler's drop check). The last
//! module is the root. Generated because Rust needs one type per provider and 300 hand-written
//! types would only hide the shape.

use std::fmt::Write as _;

const MODULES: usize = 100;

fn main() {
    let mut out = String::new();
    for i in 0..MODULES {
        for p in ["A", "B"] {
            let (deps, field, construct) = if i == 0 {
                ("()".to_owned(), String::new(), "Ok(Self)".to_owned())
            } else {
                let dep = format!("{p}{}", i - 1);
                (
                    format!("Arc<{dep}>"),
                    "(#[expect(dead_code, reason = \"held like an injected service\")] Arc<dyn Any + Send + Sync>)".to_owned(),
                    "Ok(Self(dep))".to_owned(),
                )
            };
            let arg = if i == 0 { "_: ()" } else { "dep: Self::Deps" };
            writeln!(
                out,
                "#[derive(Debug)]\npub(crate) struct {p}{i}{field};\n\
                 impl Injectable for {p}{i} {{\n    type Deps = {deps};\n    \
                 async fn construct({arg}) -> Result<Self, BoxError> {{ {construct} }}\n}}\n"
            )
            .unwrap();
        }
        let import = if i == 0 {
            String::new()
        } else {
            format!(".import(M{})", i - 1)
        };
        writeln!(
            out,
            "#[derive(Debug)]\npub(crate) struct M{i};\n\
             impl Module for M{i} {{\n    fn define(&self) -> ModuleDef {{\n        \
             ModuleDef::new(\"M{i}\"){import}\n            \
             .provider(Provider::class::<A{i}>())\n            \
             .provider(Provider::class::<B{i}>())\n            \
             .export::<A{i}>()\n            .export::<B{i}>()\n    }}\n}}\n"
        )
        .unwrap();
    }
    let last = MODULES - 1;
    writeln!(out, "/// The root module.\npub(crate) const ROOT: M{last} = M{last};\n/// A provider at the end of the injection chains.\npub(crate) type Leaf = A{last};\n/// How many modules the graph has.\npub(crate) const MODULE_COUNT: usize = {MODULES};").unwrap();

    let path = std::path::Path::new(&std::env::var("OUT_DIR").unwrap()).join("graph.rs");
    std::fs::write(path, out).unwrap();
    println!("cargo::rerun-if-changed=build.rs");

    // Packed relative relocations (RELR, glibc 2.36+, any current linker): the dynamic loader
    // then reads a table of a few KiB at start-up instead of the 1.5 MiB `.rela.dyn` of a
    // position-independent Rust binary this size, all of which was resident after start.
    // It changes nothing else (address randomisation stays), which is why an app shipping on
    // current Linux would set it; `bench/README.md` has the figures.
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("linux") {
        println!("cargo::rustc-link-arg-bins=-Wl,-z,pack-relative-relocs");
    }
}
