//! What the model's integration tests share: a scenario text with `--set` overrides,
//! simulated, its conservation laws checked.

// Each test binary compiles this module and uses only part of it.
#![allow(dead_code)]

use stormsim::config::Experiment;
use stormsim::config::overrides::Override;
use stormsim::metrics::RunOutcome;
use stormsim::model::simulate;

/// Parses the experiment `text` with `overrides`, each `key=value` as `--set` takes it;
/// an error is the one-line message the binary would print.
pub fn parse(text: &str, overrides: &[&str]) -> Result<Experiment, String> {
    let overrides: Vec<Override> = overrides
        .iter()
        .map(|o| Override::parse(o).unwrap())
        .collect();
    Experiment::parse("test", "test.toml", text, &overrides).map_err(|e| e.to_string())
}

/// Simulates the first variant of `text` with `overrides`, and checks that the run kept
/// its conservation laws.
pub fn run(text: &str, overrides: &[&str]) -> RunOutcome {
    let experiment = parse(text, overrides).unwrap();
    let outcome = simulate(&experiment.variants[0].scenario, &mut ());
    outcome.tally.check().expect("conservation laws hold");
    outcome
}
