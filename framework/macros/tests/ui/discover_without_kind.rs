struct Service;

#[nestling::discoverable]
impl Service {
    #[discover(event = "user.created")]
    fn handle(&self) {}
}

fn main() {}
