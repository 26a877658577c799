use nestling::Injectable;

#[derive(Injectable)]
#[injectable(hooks(on_module_init))]
struct Service;

fn main() {}
