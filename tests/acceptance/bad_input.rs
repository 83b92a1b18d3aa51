//! Bad input, through the real binary: each kind is refused with exit status 2 and one
//! line on stderr that names the key, the value and what is allowed, prints nothing on
//! stdout, and creates no output directory.

use std::path::Path;

use super::common::{Scratch, stormsim};

/// A valid experiment: the cases below break it in one place each.
const VALID: &str = r#"
seed = 7

[clients]
count = 1000
window_s = 1

[connection_servers]
count = 2

[redis]
shards = 2

[messages]
rate_per_s = 100

[run]
horizon_s = 2

[variants.sync]
registry.strategy = "sync"

[variants.async]
registry.strategy = "async"
"#;

/// Runs `stormsim <command> <experiment> [--out] <args>` and returns its exit status,
/// stdout and stderr.
fn invoke(command: &str, experiment: &Path, out: &Path, args: &[&str]) -> (i32, String, String) {
    let mut invocation = stormsim();
    invocation.arg(command).arg(experiment).args(args);
    if command == "run" {
        invocation.arg("--out").arg(out).arg("--quiet");
    }
    let output = invocation.output().expect("stormsim starts");
    (
        output.status.code().expect("stormsim exits, not killed"),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// Runs both `check` and `run` on `text` with `args`, asserts that each refuses it the
/// same way and writes nothing, and returns the one line of stderr (without its newline).
fn refused_with(text: &str, args: &[&str]) -> String {
    let scratch = Scratch::new("broken", text);
    refused(&scratch, scratch.experiment(), args)
}

fn refused(scratch: &Scratch, experiment: &Path, args: &[&str]) -> String {
    let (status, stdout, check_stderr) = invoke("check", experiment, &scratch.out(), args);
    assert_eq!((status, stdout.as_str()), (2, ""), "check: {check_stderr}");

    let (status, stdout, stderr) = invoke("run", experiment, &scratch.out(), args);
    assert_eq!((status, stdout.as_str()), (2, ""), "run: {stderr}");
    assert_eq!(stderr, check_stderr);
    assert!(!scratch.out().exists(), "an output directory was created");

    let line = stderr
        .strip_suffix('\n')
        .expect("the message ends its line");
    assert!(!line.contains('\n'), "more than one line: {stderr}");
    assert!(line.starts_with("stormsim: error: "), "{line}");
    line.to_string()
}

#[test]
fn the_valid_experiment_runs_and_writes_its_output() {
    // The control for every case below: the same invocation without the fault succeeds
    // and creates the output directory, so "nothing created" is a real check.
    let scratch = Scratch::new("broken", VALID);
    let (status, stdout, stderr) = invoke("run", scratch.experiment(), &scratch.out(), &[]);
    assert_eq!(status, 0, "{stderr}");
    assert!(stdout.contains("results: "));
    assert!(scratch.out().join("broken/summary.csv").is_file());
}

#[test]
fn unknown_keys_are_named_wherever_they_are() {
    let top = refused_with(&format!("extra = 1\n{VALID}"), &[]);
    assert!(
        top.starts_with(
            "stormsim: error: key 'extra': unknown field `extra`, expected one of `seed`, "
        ),
        "{top}"
    );

    let nested = VALID.replace("shards = 2", "shardz = 2");
    assert_eq!(
        refused_with(&nested, &[]),
        "stormsim: error: key 'redis.shardz': unknown field `shardz`, \
         expected one of `shards`, `service`, `pipeline`, `outage_mode`"
    );

    let in_variant = VALID.replace(
        "registry.strategy = \"async\"",
        "registry.strategy = \"async\"\nregistry.writerz = 4",
    );
    assert!(refused_with(&in_variant, &[]).starts_with(
        "stormsim: error: key 'variants.async.registry.writerz': unknown field `writerz`"
    ));

    assert_eq!(
        refused_with(VALID, &["--set", "redis.shardz=3"]),
        "stormsim: error: key 'redis.shardz': unknown field `shardz`, \
         expected one of `shards`, `service`, `pipeline`, `outage_mode`"
    );
}

#[test]
fn values_of_the_wrong_type_are_refused() {
    let text = VALID.replace("shards = 2", "shards = \"many\"");
    assert_eq!(
        refused_with(&text, &[]),
        "stormsim: error: key 'redis.shards': invalid type: string \"many\", \
         expected a whole number"
    );
    assert_eq!(
        refused_with(VALID, &["--set", "clients.count=10.5"]),
        "stormsim: error: key 'clients.count': invalid type: floating point `10.5`, \
         expected a whole number"
    );
    assert_eq!(
        refused_with(VALID, &["--set", "messages.lookups_load_shards=3"]),
        "stormsim: error: key 'messages.lookups_load_shards': invalid type: integer `3`, \
         expected a boolean"
    );
    assert_eq!(
        refused_with(VALID, &["--set", "redis=3"]),
        "stormsim: error: key 'redis': invalid type: integer `3`, expected a table"
    );
}

#[test]
fn zero_servers_or_shards_are_refused() {
    assert_eq!(
        refused_with(VALID, &["--set", "connection_servers.count=0"]),
        "stormsim: error: key 'connection_servers.count' = 0: a whole number from 1 to 65535"
    );
    assert_eq!(
        refused_with(&VALID.replace("shards = 2", "shards = 0"), &[]),
        "stormsim: error: key 'redis.shards' = 0: a whole number from 1 to 16384"
    );
}

#[test]
fn negative_or_nan_rates_and_times_are_refused() {
    let cases = [
        (
            "messages.rate_per_s=-1",
            "key 'messages.rate_per_s' = -1: a number from 0 to 1e9 (one message per nanosecond, all users together)",
        ),
        (
            "messages.rate_per_s=nan",
            "key 'messages.rate_per_s' = NaN: a number from 0 to 1e9 (one message per nanosecond, all users together)",
        ),
        (
            "clients.window_s=-1",
            "key 'clients.window_s' = -1: a number greater than 0 and at most 1000000",
        ),
        (
            "connection_servers.handshake.mean_us=nan",
            "key 'connection_servers.handshake.mean_us' = NaN: \
             a number greater than 0 and at most 1e9",
        ),
        (
            "redis.service.mean_us=-10",
            "key 'redis.service.mean_us' = -10: a number greater than 0 and at most 1e9",
        ),
        (
            "clients.spread_s=-inf",
            "key 'clients.spread_s' = -inf: a finite number greater than 0",
        ),
    ];
    for (set, message) in cases {
        let args = ["--set", "clients.profile=peak", "--set", set];
        assert_eq!(
            refused_with(VALID, &args),
            format!("stormsim: error: {message}")
        );
    }
}

#[test]
fn batching_values_out_of_range_are_refused() {
    let cases = [
        (
            "registry.batch_size=0",
            "key 'registry.batch_size' = 0: a whole number from 1 to 65536",
        ),
        (
            "registry.batch_size=65537",
            "key 'registry.batch_size' = 65537: a whole number from 1 to 65536",
        ),
        (
            "registry.linger_ms=-1",
            "key 'registry.linger_ms' = -1: a number from 0 to 60000",
        ),
        (
            "registry.linger_ms=nan",
            "key 'registry.linger_ms' = NaN: a number from 0 to 60000",
        ),
        (
            "registry.linger_ms=inf",
            "key 'registry.linger_ms' = inf: a number from 0 to 60000",
        ),
        (
            "redis.pipeline.overhead_us=0",
            "key 'redis.pipeline.overhead_us' = 0: a number greater than 0 and at most 10000",
        ),
        (
            "redis.pipeline.per_op_us=-2",
            "key 'redis.pipeline.per_op_us' = -2: a number greater than 0 and at most 10000",
        ),
        (
            "redis.pipeline.per_op_us=nan",
            "key 'redis.pipeline.per_op_us' = NaN: a number greater than 0 and at most 10000",
        ),
    ];
    for (set, message) in cases {
        let args = ["--set", "registry.strategy=async-batched", "--set", set];
        assert_eq!(
            refused_with(VALID, &args),
            format!("stormsim: error: {message}")
        );
    }
    assert_eq!(
        refused_with(VALID, &["--set", "registry.strategy=batched"]),
        "stormsim: error: key 'registry.strategy' = 'batched': \
         one of 'sync', 'async', 'async-batched', 'coalesced', 'placement', 'lazy'"
    );
}

#[test]
fn a_window_or_horizon_of_zero_is_refused() {
    assert_eq!(
        refused_with(VALID, &["--set", "clients.window_s=0"]),
        "stormsim: error: key 'clients.window_s' = 0: a number greater than 0 and at most 1000000"
    );
    assert_eq!(
        refused_with(VALID, &["--set", "run.horizon_s=0"]),
        "stormsim: error: key 'run.horizon_s' = 0: a number greater than 0 and at most 1000000"
    );
    assert_eq!(
        refused_with(VALID, &["--set", "run.horizon_s=0.5"]),
        "stormsim: error: key 'run.horizon_s' = 0.5: at least clients.window_s (1), \
         so every client arrives"
    );
}

#[test]
fn counts_and_spans_that_do_not_fit_are_refused() {
    assert_eq!(
        refused_with(VALID, &["--set", "clients.count=4294967296"]),
        "stormsim: error: key 'clients.count' = 4294967296: a whole number from 1 to 4294967295"
    );
    assert_eq!(
        refused_with(VALID, &["--set", "clients.count=-5"]),
        "stormsim: error: key 'clients.count' = -5: a whole number from 1 to 4294967295"
    );
    assert_eq!(
        refused_with(VALID, &["--set", "run.horizon_s=1e12"]),
        "stormsim: error: key 'run.horizon_s' = 1e12: a number greater than 0 and at most 1000000"
    );
    assert_eq!(
        refused_with(VALID, &["--set", "messages.rate_per_s=1e30"]),
        "stormsim: error: key 'messages.rate_per_s' = 1e30: \
         a number from 0 to 1e9 (one message per nanosecond, all users together)"
    );
    assert_eq!(
        refused_with(VALID, &["--seed", "18446744073709551615"]),
        "stormsim: error: invalid value '18446744073709551615' for '--seed <N>': \
         18446744073709551615 is not in 0..=9223372036854775807 (see --help)"
    );
}

#[test]
fn malformed_toml_is_refused_on_one_line_with_its_position() {
    let scratch = Scratch::new("broken", &VALID.replace("[redis]", "[redis"));
    let line = refused(&scratch, scratch.experiment(), &[]);
    assert_eq!(
        line,
        format!(
            "stormsim: error: file '{}' is not valid TOML: line 11, column 7: \
             invalid table header; expected `.`, `]`",
            scratch.experiment().display()
        )
    );

    let scratch = Scratch::new("broken", &format!("{VALID}\n[clients]\ncount = 5\n"));
    let line = refused(&scratch, scratch.experiment(), &[]);
    assert!(
        line.ends_with(
            "is not valid TOML: line 26, column 1: invalid table header; duplicate key `clients` in document root"
        ),
        "{line}"
    );
}

#[test]
fn a_missing_file_is_refused() {
    let scratch = Scratch::empty();
    let missing = scratch.path().join("missing.toml");
    let line = refused(&scratch, &missing, &[]);
    assert_eq!(
        line,
        format!(
            "stormsim: error: cannot read file '{}': No such file or directory (os error 2)",
            missing.display()
        )
    );
}

#[test]
fn a_set_without_equals_is_refused() {
    assert_eq!(
        refused_with(VALID, &["--set", "redis.shards"]),
        "stormsim: error: override 'redis.shards': expected key=value, \
         for example redis.shards=64"
    );
    assert_eq!(
        refused_with(VALID, &["--set", "redis..shards=3"]),
        "stormsim: error: override 'redis..shards=3': the key must be dotted words, \
         for example redis.shards"
    );
}

#[test]
fn an_unknown_variant_is_refused() {
    assert_eq!(
        refused_with(VALID, &["--variant", "eventual"]),
        "stormsim: error: variant 'eventual' is not in the experiment; it has: sync, async"
    );
}

#[test]
fn a_bad_flag_is_refused_on_one_line() {
    assert_eq!(
        refused_with(VALID, &["--seed", "abc"]),
        "stormsim: error: invalid value 'abc' for '--seed <N>': \
         invalid digit found in string (see --help)"
    );
    assert_eq!(
        refused_with(VALID, &["--frobnicate"]),
        "stormsim: error: unexpected argument '--frobnicate' found (see --help)"
    );
}
