//! The discrete-event core: virtual time, the event queue and seeded random streams.
//!
//! Nothing in this module knows about WebSockets or Redis. The model builds on three
//! promises made here:
//!
//! - time is an integer count of nanoseconds ([`SimTime`]), so no rounding error
//!   accumulates however long a run is;
//! - events that fall on the same instant are dispatched in the order they were
//!   scheduled ([`EventQueue`]), so a run is a pure function of its inputs;
//! - every component draws from its own ChaCha stream ([`RandomStreams`]), so changing one
//!   component's parameters never shifts another component's draws.

mod queue;
mod radix;
mod random;
mod time;
mod trajectory;

pub use queue::{EventQueue, Scheduled};
pub use random::{RandomStreams, Stream};
pub use time::{
    NANOS_PER_MS, NANOS_PER_S, NANOS_PER_US, SimTime, round_to_nanos, seconds, to_ms, to_seconds,
};
pub use trajectory::Trajectory;
