//! Embedded durable executor that speaks the Inngest protocol, also a standalone dev server.
