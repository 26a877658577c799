struct Service;

#[nestling::discoverable]
impl Service {
    #[discover(kind = "test")]
    fn handle(&mut self) {}
}

fn main() {}
