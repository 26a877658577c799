struct Service;

#[nestling::discoverable]
impl Service {
    #[discover(kind = "test")]
    fn handle(&self, a: u32, b: u32) -> u32 {
        a + b
    }
}

fn main() {}
