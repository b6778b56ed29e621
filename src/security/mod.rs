//! Secrets and credentials: random tokens, password hashing (argon2id on a bounded pool),
//! TOTP second factor and recovery codes.

pub mod password;
pub mod recovery;
pub mod seal;
pub mod tokens;
pub mod totp;
