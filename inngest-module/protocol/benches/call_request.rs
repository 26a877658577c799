//! Cost of reading a call request with 10, 100 and 1,000 memoised steps (owning everything,
//! or borrowing the memo as the serve endpoint does), of interpreting every memo, and of
//! canonicalising the body for its signature.
//!
//! Run with `cargo bench -p nestling-inngest-protocol`.

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use nestling_inngest_protocol::{
    BorrowedCallRequest, CallRequest, MemoizedStep, canonicalize, hash_step_id,
};

fn body(steps: usize) -> String {
    let mut memo = Vec::with_capacity(steps);
    let mut stack = Vec::with_capacity(steps);
    for i in 0..steps {
        let id = hash_step_id(&format!("step-{i}"));
        memo.push(format!(
            r#""{id}":{{"data":{{"n":{i},"label":"result of step {i}"}}}}"#
        ));
        stack.push(format!(r#""{id}""#));
    }
    format!(
        r#"{{"ctx":{{"attempt":0,"disable_immediate_execution":false,"env":"","max_attempts":4,"run_id":"01JGGVSAG0000000000001001B","stack":{{"current":{steps},"stack":[{}]}},"step_id":"step","use_api":false}},"event":{{"data":{{"n":1}},"id":"01JGGRBEW00000000000020017","name":"demo/multi.step","ts":1735729239000}},"events":[{{"data":{{"n":1}},"id":"01JGGRBEW00000000000020017","name":"demo/multi.step","ts":1735729239000}}],"steps":{{{}}},"use_api":false,"version":2}}"#,
        stack.join(","),
        memo.join(",")
    )
}

fn call_request(c: &mut Criterion) {
    let mut group = c.benchmark_group("call_request");

    for steps in [10, 100, 1000] {
        let text = body(steps);
        group.throughput(Throughput::Bytes(
            u64::try_from(text.len()).unwrap_or(u64::MAX),
        ));

        group.bench_with_input(BenchmarkId::new("parse", steps), &text, |b, text| {
            b.iter(|| CallRequest::from_slice(black_box(text.as_bytes())).unwrap());
        });

        group.bench_with_input(
            BenchmarkId::new("parse_borrowed", steps),
            &text,
            |b, text| {
                b.iter(|| BorrowedCallRequest::from_str(black_box(text)).unwrap());
            },
        );

        let request = CallRequest::from_slice(text.as_bytes()).unwrap();
        group.bench_with_input(
            BenchmarkId::new("read_every_memo", steps),
            &request,
            |b, r| {
                b.iter(|| {
                    for raw in r.steps.values() {
                        black_box(MemoizedStep::parse(raw).unwrap());
                    }
                });
            },
        );

        group.bench_with_input(BenchmarkId::new("canonicalize", steps), &text, |b, text| {
            b.iter(|| canonicalize(black_box(text.as_bytes())).unwrap());
        });
    }

    group.finish();
}

criterion_group!(benches, call_request);
criterion_main!(benches);
