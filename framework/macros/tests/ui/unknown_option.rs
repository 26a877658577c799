use nestling::Injectable;

#[derive(Injectable)]
#[injectable(scope = "request")]
struct Service;

fn main() {}
