use nestling::Injectable;

#[derive(Injectable)]
enum Service {
    A,
}

fn main() {}
