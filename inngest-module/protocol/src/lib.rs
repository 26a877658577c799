//! Inngest wire types, step hashing and request signatures shared by the Nestling SDK and engine.
