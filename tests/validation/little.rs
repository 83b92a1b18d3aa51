//! Little's law, `L = λW`, on every queue of a small storm
//! (`experiments/validation/little-storm.toml`).
//!
//! Over a run that starts and ends empty, the time integral of a queue's length equals the
//! sum of its jobs' stays, whatever the arrival and service laws (Little, Operations
//! Research 9, 1961; Stidham's sample-path proof, Operations Research 22, 1974). So the
//! time-averaged lengths of the time series must match the arrival rate times the mean
//! stays recorded by the latency histograms, up to the histograms' resolution; no
//! replications are needed, as the law holds run by run. The model records no wait per
//! queue, only end-to-end latencies, so each queue's stay is isolated by subtraction:
//!
//! - handshake queue: the async connect latency minus the deterministic handshake;
//! - registry queue and shard together (async): the registry lag;
//! - shard queue and server (sync): sync connect latency minus async connect latency,
//!   since the handshake stage is the same in both runs (common random numbers);
//! - shard server alone: busy time over the horizon against λ E[S], a sum of exponential
//!   service times, compared with a normal interval.

use stormsim::config::{RegistryStrategy, Scenario, ServiceTime};
use stormsim::engine::to_seconds;
use stormsim::metrics::{LatencyHistogram, RunOutcome};
use stormsim::model::simulate;

use super::replicate::{HISTOGRAM_RESOLUTION, horizon_average, load_variant, ns_to_s, service_cv};
use super::report::{Estimate, Report};

const FILE: &str = "little-storm.toml";

/// The two runs of the storm, one per registry strategy, on the same seed.
struct Storm {
    scenario: Scenario,
    sync: RunOutcome,
    asynchronous: RunOutcome,
}

impl Storm {
    fn run() -> Self {
        let scenario = load_variant(FILE, "sync");
        let async_scenario = load_variant(FILE, "async");
        assert_eq!(scenario.strategy, RegistryStrategy::Sync);
        assert_eq!(async_scenario.strategy, RegistryStrategy::Async);
        assert!(matches!(
            scenario.handshake,
            ServiceTime::Deterministic { .. }
        ));
        let mut same_but_sync = async_scenario.clone();
        same_but_sync.strategy = RegistryStrategy::Sync;
        assert_eq!(
            scenario, same_but_sync,
            "the variants differ in strategy only"
        );

        let storm = Self {
            sync: drained_run(&scenario),
            asynchronous: drained_run(&async_scenario),
            scenario,
        };
        assert_eq!(
            storm.sync.series.handshake_queue, storm.asynchronous.series.handshake_queue,
            "the handshake stage does not depend on the registry strategy"
        );
        storm
    }

    fn horizon_s(&self) -> f64 {
        to_seconds(self.scenario.horizon_ns)
    }

    /// Connections per second over the horizon (rejected clients never queue).
    fn connect_rate_per_s(&self) -> f64 {
        self.asynchronous.tally.clients_connected as f64 / self.horizon_s()
    }

    fn average(&self, series: &[f64]) -> f64 {
        horizon_average(series, &self.scenario)
    }

    /// The time-averaged number of writes at the shard: waiting plus in service.
    fn shard_occupancy(&self, outcome: &RunOutcome) -> f64 {
        let series = &outcome.series;
        self.average(&series.shard_queue)
            + self.average(&series.shard_utilization) * f64::from(self.scenario.shards)
    }

    /// Handshake queue: the async connect latency is the wait plus the handshake.
    fn check_handshake_queue(&self, report: &mut Report) {
        let connect_s = mean_s(&self.asynchronous.connect_latency);
        let wait_s = connect_s - ns_to_s(self.scenario.handshake.mean_ns());
        let rate = self.connect_rate_per_s();
        report.compare(
            "handshake queue",
            "L (clients)",
            rate * wait_s,
            Estimate::around(
                self.average(&self.asynchronous.series.handshake_queue),
                rate * connect_s * HISTOGRAM_RESOLUTION,
            ),
        );
    }

    /// Registry queue and shard (async): the registry lag is the sojourn in both.
    fn check_registry_path(&self, report: &mut Report) {
        let rate = self.asynchronous.tally.writes_applied as f64 / self.horizon_s();
        let lag_s = mean_s(&self.asynchronous.registry_lag);
        let occupancy = self.average(&self.asynchronous.series.registry_queue)
            + self.shard_occupancy(&self.asynchronous);
        report.compare(
            "registry queue + shard",
            "L (writes, async)",
            rate * lag_s,
            Estimate::around(occupancy, rate * lag_s * HISTOGRAM_RESOLUTION),
        );
    }

    /// Shard queue and server (sync): what sync adds to the connect latency.
    fn check_sync_shard(&self, report: &mut Report) {
        let sync_s = mean_s(&self.sync.connect_latency);
        let async_s = mean_s(&self.asynchronous.connect_latency);
        let rate = self.connect_rate_per_s();
        report.compare(
            "shard queue + server",
            "L (writes, sync)",
            rate * (sync_s - async_s),
            Estimate::around(
                self.shard_occupancy(&self.sync),
                rate * (sync_s + async_s) * HISTOGRAM_RESOLUTION,
            ),
        );
    }

    /// The shard server alone: its busy time is the sum of the service times, the same
    /// draws in both runs, so one run shows it. Compared with λ E[S] under a normal
    /// interval for a sum of independent service times (central limit theorem).
    fn check_shard_server(&self, report: &mut Report) {
        let writes = self.sync.tally.writes_applied as f64;
        let service = &self.scenario.shard_service;
        let service_s = ns_to_s(service.mean_ns());
        let busy =
            self.average(&self.sync.series.shard_utilization) * f64::from(self.scenario.shards);
        let standard_error = writes.sqrt() * service_s * service_cv(service) / self.horizon_s();
        report.compare(
            "shard server",
            "L = ρ (writes in service)",
            writes / self.horizon_s() * service_s,
            Estimate::normal(busy, standard_error),
        );
    }
}

fn drained_run(scenario: &Scenario) -> RunOutcome {
    let outcome = simulate(scenario, &mut ());
    outcome.tally.check().expect("conservation laws hold");
    let drained = outcome.all_registered_at.expect("every client registered");
    assert!(
        drained < scenario.horizon_ns,
        "the storm drains before the horizon"
    );
    outcome
}

fn mean_s(histogram: &LatencyHistogram) -> f64 {
    histogram.mean_ms() / 1e3
}

#[test]
fn littles_law_holds_on_every_queue_of_a_storm() {
    let storm = Storm::run();
    let mut report = Report::new("Little's law L = λW on a storm (L from time series)");
    storm.check_handshake_queue(&mut report);
    storm.check_registry_path(&mut report);
    storm.check_sync_shard(&mut report);
    storm.check_shard_server(&mut report);
    report.finish();
}
