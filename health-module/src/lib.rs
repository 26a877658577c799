//! Health endpoints and indicators for Nestling Inngest apps.
