struct Service;

#[nestling::discoverable]
impl Service {
    fn handle(&self) {}
}

fn main() {}
