//! Testing module builder, provider overrides and an in-process engine for Nestling apps.
