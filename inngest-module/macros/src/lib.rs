//! Procedural macros that declare Inngest functions on Nestling services.
