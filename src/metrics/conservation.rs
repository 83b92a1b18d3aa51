//! The laws every run checks before it reports: nothing arrives without being counted
//! somewhere.
//!
//! Each side of a law is counted by different code (a client is counted as arrived where
//! it arrives, as connected where its connection completes, as in progress by draining
//! what is still queued at the horizon), so a lost or double-counted client breaks a law.

use thiserror::Error;

/// A broken conservation law: always a bug in stormsim, never the user's input.
#[derive(Debug, Error)]
#[error("conservation law broken: {law}: {left} != {right} ({detail}); this is a bug in stormsim")]
pub struct ConservationError {
    pub law: &'static str,
    pub left: u64,
    pub right: u64,
    pub detail: String,
}

/// The counts the laws speak of.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    pub clients_arrived: u64,
    pub clients_connected: u64,
    /// Connection attempts turned away at the door (not a law's term: a rejected client
    /// may retry).
    pub clients_rejected: u64,
    /// Clients that stopped trying for good.
    pub clients_gave_up: u64,
    pub clients_in_progress: u64,
    pub writes_issued: u64,
    pub writes_applied: u64,
    pub writes_pending: u64,
    /// Writes still queued on a connection server when it crashed, never sent.
    pub writes_lost: u64,
    /// Writes dropped by a `coalesced` writer because their connection had closed.
    pub writes_coalesced: u64,
    pub messages_sent: u64,
    pub messages_routed: u64,
    pub messages_missed: u64,
    pub messages_offline: u64,
    /// Clients × horizon, in nanoseconds.
    pub timeline_expected_ns: u128,
    /// The time every client spent offline, in its miss window, or reachable, summed.
    pub timeline_covered_ns: u128,
}

impl Tally {
    /// Checks every law and reports the first that fails.
    pub fn check(&self) -> Result<(), ConservationError> {
        let laws = [
            (
                "clients arrived = connected + gave up + in progress",
                self.clients_arrived,
                self.clients_connected + self.clients_gave_up + self.clients_in_progress,
                format!(
                    "{} arrived, {} connected, {} gave up, {} in progress",
                    self.clients_arrived,
                    self.clients_connected,
                    self.clients_gave_up,
                    self.clients_in_progress
                ),
            ),
            (
                "registry writes issued = applied + pending + lost + coalesced",
                self.writes_issued,
                self.writes_applied
                    + self.writes_pending
                    + self.writes_lost
                    + self.writes_coalesced,
                format!(
                    "{} issued, {} applied, {} pending, {} lost, {} coalesced",
                    self.writes_issued,
                    self.writes_applied,
                    self.writes_pending,
                    self.writes_lost,
                    self.writes_coalesced
                ),
            ),
            (
                "messages sent = routed + missed + offline",
                self.messages_sent,
                self.messages_routed + self.messages_missed + self.messages_offline,
                format!(
                    "{} sent, {} routed, {} missed, {} offline",
                    self.messages_sent,
                    self.messages_routed,
                    self.messages_missed,
                    self.messages_offline
                ),
            ),
        ];
        for (law, left, right, detail) in laws {
            if left != right {
                return Err(ConservationError {
                    law,
                    left,
                    right,
                    detail,
                });
            }
        }
        if self.timeline_expected_ns != self.timeline_covered_ns {
            return Err(ConservationError {
                law: "clients x horizon = time offline + time in a miss window + time reachable",
                left: (self.timeline_expected_ns / 1_000_000_000) as u64,
                right: (self.timeline_covered_ns / 1_000_000_000) as u64,
                detail: format!(
                    "{} ns expected, {} ns covered",
                    self.timeline_expected_ns, self.timeline_covered_ns
                ),
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lost_client_breaks_the_first_law() {
        let tally = Tally {
            clients_arrived: 10,
            clients_connected: 7,
            clients_gave_up: 2,
            ..Tally::default()
        };
        let error = tally.check().unwrap_err();
        assert!(error.law.starts_with("clients arrived"));

        let balanced = Tally {
            clients_in_progress: 1,
            ..tally
        };
        assert!(balanced.check().is_ok());
    }
}
