//! Multi-operator sessions across organisations (DESIGN §3, §4).
//!
//! Each participant belongs to another organisation, and no operator holds another's
//! credentials. So every organisation runs its own deck against its own participant, and
//! the decks meet at a coordinator (`recovery-deck serve`) that holds the session's
//! totally ordered, hash-chained event log ([`event::SessionEvent`], persisted with the
//! journal writer) and relays between them. The coordinator orders and relays only: it
//! holds no participant credential and cannot call a participant.
//!
//! - [`manifest`]: what a deck publishes about its participant (digests, not payloads),
//!   and the federated comparison built from every manifest with the pure reconcile code.
//! - [`state`] and [`rules`]: the session folded from its log, and the pure rules that
//!   turn commands into events (roles, approvals bound to plan hashes, barriers, pause on
//!   leave); [`board`]: what the shared screen shows of that state.
//! - [`access`]: operators, roles and credentials (bearer tokens, TLS client certificates).
//! - [`coordinator`]: the tonic service.
//! - [`client`], [`feed`] and [`deck`]: the deck side: commands to the coordinator,
//!   following the log, publishing, approving, and executing one participant's part of
//!   the plan behind the session's barriers.

pub mod access;
pub mod board;
pub mod client;
pub mod coordinator;
pub mod deck;
pub mod event;
pub mod feed;
pub mod manifest;
mod peer;
mod relay;
pub mod rules;
pub mod state;
