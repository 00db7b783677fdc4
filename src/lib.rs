//! gitfleet: spread GitHub API traffic over a fleet of tokens.
//!
//! - [`pool`]: the token pool — per-token, per-resource rate limits, token
//!   status and selection strategies. Pure Rust, no I/O.
//! - [`classify`]: what a response means for the token that sent it.
//! - [`github`]: a blocking GitHub REST client that draws its tokens from a
//!   pool, retries on another token when one is spent or revoked, and
//!   follows pagination to the end.
//! - [`store`]: an encrypted file of credentials (XChaCha20-Poly1305, keys
//!   from Argon2id), to keep tokens out of the environment.
//! - `ffi` (private): the C ABI declared in `include/gitfleet.h`.

mod cancel;
pub mod classify;
pub mod error;
mod ffi;
#[cfg(fuzzing)]
#[doc(hidden)]
pub mod fuzzing;
pub mod github;
pub mod pool;
mod runtime;
pub mod store;

pub use cancel::CancelToken;
pub use error::{Error, Result};
pub use github::{Client, ClientOptions};
pub use pool::{
    Lease, Provider, Reserve, SecretToken, Strategy, TokenManager, TokenSnapshot, TokenStatus,
};
