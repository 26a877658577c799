//! Builds a graph of 1,000 providers in 100 modules and resolves providers from it.
//!
//! Module `k` imports module `k - 1`; each module has ten factory providers in a chain, the
//! first injecting the previous module's exported last one, so the dependency graph is 1,000
//! deep and crosses every module boundary. One provider per module is also bound to an
//! interface. Each provider is its own type (`P<module, index>`), as in a real application.

use std::hint::black_box;
use std::sync::Arc;

use criterion::{Criterion, criterion_group, criterion_main};
use nestling::{ApplicationContext, Error, Module, ModuleDef, Provider};

/// Provider `I` of module `M`, carrying its depth in the chain.
struct P<const M: usize, const I: usize>(u64);

trait Depth: Send + Sync {
    fn depth(&self) -> u64;
}

impl<const M: usize, const I: usize> Depth for P<M, I> {
    fn depth(&self) -> u64 {
        self.0
    }
}

/// Module `M`, defined when the scan first meets it.
struct Lazy<const M: usize>;

impl<const M: usize> Module for Lazy<M> {
    fn define(&self) -> ModuleDef {
        DEFINITIONS[M]()
    }
}

macro_rules! step {
    ($def:ident, $m:ident, $from:literal => $to:literal) => {
        $def = $def.provider(Provider::factory(|p: Arc<P<$m, $from>>| async move {
            Ok::<_, Error>(P::<$m, $to>(p.0 + 1))
        }));
    };
}

/// Module `M`, importing module `PREV` (none for module 0).
fn define<const M: usize, const PREV: usize>() -> ModuleDef {
    let mut def = ModuleDef::new(format!("Module{M}"));
    def = if M == 0 {
        def.provider(Provider::value(P::<M, 0>(0)))
    } else {
        def.import(Lazy::<PREV>)
            .provider(Provider::factory(|p: Arc<P<PREV, 9>>| async move {
                Ok::<_, Error>(P::<M, 0>(p.0 + 1))
            }))
    };
    step!(def, M, 0 => 1);
    step!(def, M, 1 => 2);
    step!(def, M, 2 => 3);
    step!(def, M, 3 => 4);
    step!(def, M, 4 => 5);
    step!(def, M, 5 => 6);
    step!(def, M, 6 => 7);
    step!(def, M, 7 => 8);
    def = def.provider(
        Provider::factory(|p: Arc<P<M, 8>>| async move { Ok::<_, Error>(P::<M, 9>(p.0 + 1)) })
            .bind::<dyn Depth>(|p| p),
    );

    def.export::<P<M, 9>>().export::<dyn Depth>()
}

// The nested repetition yields ten groups of ten; flatten them into one table.
const GROUPS: [[fn() -> ModuleDef; 10]; 10] = definitions_grouped();

const fn definitions_grouped() -> [[fn() -> ModuleDef; 10]; 10] {
    macro_rules! row {
        ($tens:literal) => {
            [
                define::<{ $tens * 10 }, { if $tens == 0 { 0 } else { $tens * 10 - 1 } }>,
                define::<{ $tens * 10 + 1 }, { $tens * 10 }>,
                define::<{ $tens * 10 + 2 }, { $tens * 10 + 1 }>,
                define::<{ $tens * 10 + 3 }, { $tens * 10 + 2 }>,
                define::<{ $tens * 10 + 4 }, { $tens * 10 + 3 }>,
                define::<{ $tens * 10 + 5 }, { $tens * 10 + 4 }>,
                define::<{ $tens * 10 + 6 }, { $tens * 10 + 5 }>,
                define::<{ $tens * 10 + 7 }, { $tens * 10 + 6 }>,
                define::<{ $tens * 10 + 8 }, { $tens * 10 + 7 }>,
                define::<{ $tens * 10 + 9 }, { $tens * 10 + 8 }>,
            ]
        };
    }
    [
        row!(0),
        row!(1),
        row!(2),
        row!(3),
        row!(4),
        row!(5),
        row!(6),
        row!(7),
        row!(8),
        row!(9),
    ]
}

static DEFINITIONS: [fn() -> ModuleDef; 100] = {
    let mut all: [fn() -> ModuleDef; 100] = [GROUPS[0][0]; 100];
    let mut i = 0;
    while i < 100 {
        all[i] = GROUPS[i / 10][i % 10];
        i += 1;
    }
    all
};

fn bench(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a runtime");

    let app = runtime
        .block_on(ApplicationContext::create(Lazy::<99>))
        .expect("the bench graph builds");
    assert_eq!(app.get::<P<99, 9>>().0, 999, "1,000 providers in a chain");
    assert_eq!(
        app.module_names().len(),
        101,
        "100 modules and the core module"
    );
    assert_eq!(
        app.get::<dyn Depth>().depth(),
        999,
        "the root's own binding"
    );

    let mut group = c.benchmark_group("graph_1000_providers_100_modules");
    group.sample_size(20);
    group.warm_up_time(std::time::Duration::from_millis(500));
    group.measurement_time(std::time::Duration::from_secs(2));
    group.bench_function("build (scan, check, construct)", |b| {
        b.to_async(&runtime).iter(|| async {
            black_box(
                ApplicationContext::builder(Lazy::<99>)
                    .compile()
                    .await
                    .unwrap(),
            )
        });
    });
    group.bench_function("create_context (build + hooks)", |b| {
        b.to_async(&runtime)
            .iter(|| async { black_box(ApplicationContext::create(Lazy::<99>).await.unwrap()) });
    });
    group.finish();

    let mut group = c.benchmark_group("resolve");
    group.sample_size(50);
    group.warm_up_time(std::time::Duration::from_millis(300));
    group.measurement_time(std::time::Duration::from_secs(1));
    group.bench_function("get concrete, visible from root", |b| {
        b.iter(|| black_box(app.get::<P<99, 9>>()));
    });
    group.bench_function("get dyn Trait, visible from root", |b| {
        b.iter(|| black_box(app.get::<dyn Depth>()));
    });
    group.bench_function("get concrete, deep in module 0", |b| {
        b.iter(|| black_box(app.get::<P<0, 5>>()));
    });
    let root = app.root();
    group.bench_function("module ref try_get", |b| {
        b.iter(|| black_box(root.try_get::<P<99, 9>>().unwrap()));
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
