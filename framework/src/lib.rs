//! NestJS-style module container, lifecycle, discovery, config and HTTP application for Rust.
