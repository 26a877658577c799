//! `nestling-dev`: the Nestling engine as a standalone Inngest dev server.

fn main() {}
