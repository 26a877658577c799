//! Procedural macros of the nestling module container.
