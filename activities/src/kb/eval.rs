//! Retrieval evaluation on external data.
