use nestling::Injectable;

#[derive(Injectable)]
struct Service {
    #[inject]
    name: String,
}

fn main() {}
