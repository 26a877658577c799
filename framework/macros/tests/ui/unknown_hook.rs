use nestling::Injectable;

#[derive(Injectable)]
#[injectable(hooks(on_init))]
struct Service;

fn main() {}
