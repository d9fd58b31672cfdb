//! The turnflow runtime and command line.
#![warn(missing_docs)]
