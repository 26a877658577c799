//! Metrics and Prometheus exposition for Nestling Inngest apps.
