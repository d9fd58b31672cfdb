//! Finds the external corpora (`../shared/data`) for the suites that need them.
//!
//! The folder comes from `TURNFLOW_SHARED_DATA`, else `../shared/data` beside the workspace. When
//! it is absent a suite skips, saying why — unless `TURNFLOW_REQUIRE_SHARED_DATA` is set (as
//! `.ci/run` does), in which case a missing corpus is a failure, so the gate never passes by
//! skipping.
#![warn(missing_docs)]

pub mod moto;

use std::path::PathBuf;

/// The shared data folder, if it holds `needs` (a path relative to it); otherwise prints
/// `skipped: …` for `suite` and returns `None`.
///
/// # Panics
/// When the data is missing and `TURNFLOW_REQUIRE_SHARED_DATA` is set.
pub fn shared_data(suite: &str, needs: &str) -> Option<PathBuf> {
    let dir = match std::env::var_os("TURNFLOW_SHARED_DATA") {
        Some(d) => PathBuf::from(d),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data"),
    };
    if dir.join(needs).exists() {
        return Some(dir);
    }
    let why = format!(
        "{} has no {needs} (set TURNFLOW_SHARED_DATA to the shared data folder)",
        dir.display()
    );
    if std::env::var_os("TURNFLOW_REQUIRE_SHARED_DATA").is_some() {
        panic!("{suite}: TURNFLOW_REQUIRE_SHARED_DATA is set but {why}");
    }
    println!("{suite} skipped: {why}");
    None
}
