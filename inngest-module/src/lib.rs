//! Inngest durable functions as Nestling service methods.
