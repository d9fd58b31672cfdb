//! Task tokens: 192 random bits from the operating system, base64url without padding.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// Length of a token: 24 random bytes → 32 URL-safe characters.
pub const TOKEN_LEN: usize = 32;

/// A fresh unguessable, URL-safe token.
pub(crate) fn new_token() -> String {
    let mut bytes = [0u8; 24];
    if getrandom::fill(&mut bytes).is_err() {
        // The OS generator does not fail on Linux once booted; should it, a token from the
        // clock would be guessable, so mix in what entropy the process has.
        let seed = std::collections::hash_map::RandomState::new();
        for (i, chunk) in bytes.chunks_mut(8).enumerate() {
            use std::hash::BuildHasher as _;
            let v = seed.hash_one((i, std::time::SystemTime::now()));
            chunk.copy_from_slice(&v.to_le_bytes()[..chunk.len()]);
        }
    }
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Whether `token` has the shape of a token the engine hands out.
pub(crate) fn well_formed(token: &str) -> bool {
    token.len() == TOKEN_LEN
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// A random u64 (execution seeds).
pub(crate) fn random_u64() -> u64 {
    let mut b = [0u8; 8];
    let _ = getrandom::fill(&mut b);
    u64::from_le_bytes(b)
}

/// A random UUID v4 text (default execution names, message ids).
pub(crate) fn uuid() -> String {
    let mut b = [0u8; 16];
    let _ = getrandom::fill(&mut b);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_url_safe_and_distinct() {
        let a = new_token();
        let b = new_token();
        assert_ne!(a, b);
        assert!(well_formed(&a), "{a}");
        assert!(!well_formed("exec:task-1"));
        assert_eq!(uuid().len(), 36);
    }
}
