//! Harnesses that drive the engine with the real turn definition: the bench
//! (`turnflow bench engine`) and the crash-torture child (`turnflow engine torture-child`).
//!
//! # Layout
//! - [`turn`]: the turn definition with local ARNs and zero-latency in-process handlers.
//! - [`bench`]: the engine figures against their targets.
//! - [`torture`]: the child process the crash-torture test kills and restarts.

pub mod bench;
pub mod torture;
pub mod turn;
