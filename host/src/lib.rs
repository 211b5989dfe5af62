//! Host platform (being implemented).
