use nestling::Injectable;

#[derive(Injectable)]
struct Service<T> {
    value: T,
}

fn main() {}
