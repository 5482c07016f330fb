//! Test support shared by unit tests, end-to-end tests, benches and the demo.
