struct Service<T>(T);

#[nestling::discoverable]
impl<T: Send + Sync + 'static> Service<T> {
    #[discover(kind = "test")]
    fn handle(&self) {}
}

fn main() {}
