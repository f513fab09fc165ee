//! Hand-written operations made of several calls, kept apart from the
//! generated ones (as in oxide.rs): each uses only the generated client's
//! public API.

pub mod bulk;
pub mod reconcile;
pub mod waiters;
pub mod zones;
