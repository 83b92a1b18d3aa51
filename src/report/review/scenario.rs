//! The scenario of a run in a short table a reviewer reads in a minute: one row per part of
//! the system, built from the resolved scenario each manifest holds. A part that all
//! variants share is stated once; where they differ, each variant's value is named, so the
//! difference under study stands out.

use serde_json::Value;

use super::Table;
use crate::report::charts::data::RunData;
use crate::report::charts::format::{count, decimal, duration_ms, grouped, rate_per_s};

/// A row of the scenario table: its label and how to describe that part of a scenario.
type Part = (&'static str, fn(&Value) -> String);

/// The table of what was simulated, or `None` when some variant has no manifest.
pub fn scenario_table(run: &RunData) -> Option<Table> {
    let scenarios: Vec<&Value> = run
        .variants
        .iter()
        .map(|v| v.manifest.as_ref()?.get("scenario"))
        .collect::<Option<_>>()?;
    let parts: [Part; 12] = [
        ("clients", clients),
        ("patience", patience),
        ("arrivals", arrivals),
        ("connection servers", servers),
        ("handshake", |s| service(&s["handshake"])),
        ("registry", registry),
        ("Redis primaries", primaries),
        ("faults", faults),
        ("messages", messages),
        ("balancer", |s| text(s, "/balancer")),
        ("simulated", simulated),
        ("seed", |s| decimal(number(s, "/seed"), 0)),
    ];

    let names: Vec<&str> = run.variants.iter().map(|v| v.name()).collect();
    let rows = parts
        .iter()
        .map(|(label, describe)| {
            let values: Vec<String> = scenarios.iter().map(|s| describe(s)).collect();
            vec![label.to_string(), merged(&names, &values)]
        })
        .collect();
    Some(Table {
        header: vec![String::new(), "value".to_string()],
        rows,
    })
}

/// One value when every variant has it, else `variant: value` for each, `; `-separated.
fn merged(names: &[&str], values: &[String]) -> String {
    if values.windows(2).all(|pair| pair[0] == pair[1]) {
        return values.first().cloned().unwrap_or_default();
    }
    let parts: Vec<String> = names
        .iter()
        .zip(values)
        .map(|(name, value)| format!("{name}: {value}"))
        .collect();
    parts.join("; ")
}

fn number(scenario: &Value, pointer: &str) -> f64 {
    scenario
        .pointer(pointer)
        .and_then(Value::as_f64)
        .unwrap_or(f64::NAN)
}

fn text(scenario: &Value, pointer: &str) -> String {
    scenario
        .pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or("?")
        .to_string()
}

fn seconds_of_ns(scenario: &Value, pointer: &str) -> String {
    format!("{} s", decimal(number(scenario, pointer) / 1e9, 3))
}

fn clients(scenario: &Value) -> String {
    let clients = count(number(scenario, "/clients"));
    match scenario.get("churn").filter(|churn| !churn.is_null()) {
        Some(churn) => format!(
            "{clients}, {}% of connections flaky (mean life {})",
            decimal(number(churn, "/flaky_share") * 100.0, 3),
            duration_ms(number(churn, "/mean_connected_ns") / 1e6)
        ),
        None => clients,
    }
}

fn patience(scenario: &Value) -> String {
    let attempts = number(scenario, "/retry/max_attempts");
    let timeout = match scenario.get("connect_timeout_ns").and_then(Value::as_f64) {
        Some(ns) => format!("gives up after {}", duration_ms(ns / 1e6)),
        None => "waits for ever".to_string(),
    };
    if attempts <= 1.0 {
        return format!("{timeout}, one attempt");
    }
    format!(
        "{timeout}, up to {} attempts, back-off {} ×{} ({} jitter)",
        grouped(attempts),
        duration_ms(number(scenario, "/retry/initial_backoff_ns") / 1e6),
        decimal(number(scenario, "/retry/multiplier"), 3),
        text(scenario, "/retry/jitter")
    )
}

fn faults(scenario: &Value) -> String {
    let list = |key: &str| {
        scenario
            .get(key)
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
    };
    let mut parts: Vec<String> = list("server_crashes")
        .iter()
        .map(|crash| {
            format!(
                "server {} crashes at {}",
                number(crash, "/server"),
                seconds_of_ns(crash, "/at_ns")
            )
        })
        .collect();
    parts.extend(list("shard_outages").iter().map(|outage| {
        let down_s = (number(outage, "/end_ns") - number(outage, "/start_ns")) / 1e9;
        format!(
            "primary {} down at {} for {} s ({})",
            number(outage, "/shard"),
            seconds_of_ns(outage, "/start_ns"),
            decimal(down_s, 3),
            text(scenario, "/outage_mode")
        )
    }));
    if text(scenario, "/on_disconnect/kind") == "expire" {
        parts.push(format!(
            "closed connections' entries expire after {}",
            duration_ms(number(scenario, "/on_disconnect/ttl_ns") / 1e6)
        ));
    }
    if parts.is_empty() {
        return "none".to_string();
    }
    parts.join("; ")
}

fn arrivals(scenario: &Value) -> String {
    let window = seconds_of_ns(scenario, "/window_ns");
    match text(scenario, "/profile/kind").as_str() {
        "peak" => format!(
            "peak at {} s (spread {} s) within {window}",
            decimal(number(scenario, "/profile/at_s"), 3),
            decimal(number(scenario, "/profile/spread_s"), 3)
        ),
        kind => format!("{kind} over {window}"),
    }
}

fn servers(scenario: &Value) -> String {
    format!(
        "{} × {} workers, accept queue {}, at most {} connections each",
        grouped(number(scenario, "/servers")),
        grouped(number(scenario, "/handshake_workers")),
        grouped(number(scenario, "/accept_queue")),
        count(number(scenario, "/max_connections"))
    )
}

fn service(service: &Value) -> String {
    let mean_ms = service["mean_ns"].as_f64().unwrap_or(f64::NAN) / 1e6;
    let kind = service["kind"].as_str().unwrap_or("?");
    let mean = duration_ms(mean_ms);
    match service["cv"].as_f64() {
        Some(cv) => format!("{kind}, mean {mean}, cv {}", decimal(cv, 3)),
        None => format!("{kind}, mean {mean}"),
    }
}

fn registry(scenario: &Value) -> String {
    let strategy = text(scenario, "/strategy");
    let layout = match text(scenario, "/key_layout/kind").as_str() {
        "bucketed" => format!(
            "bucketed into {} hashes",
            grouped(number(scenario, "/key_layout/buckets"))
        ),
        kind => kind.to_string(),
    };
    if strategy == "async" {
        let writers = grouped(number(scenario, "/writers"));
        format!("async, {writers} writers per server, keys {layout}")
    } else if strategy == "coalesced" {
        let writers = grouped(number(scenario, "/writers"));
        format!(
            "coalesced (async, outdated writes dropped), {writers} writers per server, \
             keys {layout}"
        )
    } else if strategy == "async-batched" {
        let writers = grouped(number(scenario, "/writers"));
        let batch = grouped(number(scenario, "/batching/batch_size"));
        let linger = duration_ms(number(scenario, "/batching/linger_ns") / 1e6);
        format!(
            "async-batched, {writers} writers per server, pipelines of up to {batch} writes \
             or {linger} of linger, keys {layout}"
        )
    } else {
        format!("{strategy}, keys {layout}")
    }
}

fn primaries(scenario: &Value) -> String {
    let mean_ns = number(scenario, "/shard_service/mean_ns");
    format!(
        "{} × {} ops/s ({})",
        grouped(number(scenario, "/shards")),
        count(1e9 / mean_ns),
        service(&scenario["shard_service"])
    )
}

fn messages(scenario: &Value) -> String {
    let lookups = if scenario["lookups_load_shards"].as_bool() == Some(false) {
        "lookups free"
    } else {
        "lookups load the shards"
    };
    let rate = rate_per_s(number(scenario, "/message_rate_per_s"));
    format!("{rate}, {lookups}")
}

fn simulated(scenario: &Value) -> String {
    format!(
        "{} in buckets of {}",
        seconds_of_ns(scenario, "/horizon_ns"),
        duration_ms(number(scenario, "/bucket_ns") / 1e6)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn describes_the_parts_of_a_scenario() {
        let scenario: Value = serde_json::from_str(
            r#"{"clients": 1000000, "servers": 10, "handshake_workers": 32, "accept_queue": 4096,
                "max_connections": 1000000, "strategy": "async", "writers": 8,
                "key_layout": {"kind": "per-user"}, "shards": 1,
                "shard_service": {"kind": "exponential", "mean_ns": 10000.0},
                "profile": {"kind": "peak", "at_s": 3.0, "spread_s": 1.2},
                "window_ns": 12000000000}"#,
        )
        .unwrap();
        let servers_text = "10 × 32 workers, accept queue 4,096, at most 1M connections each";
        assert_eq!(servers(&scenario), servers_text);
        assert_eq!(
            registry(&scenario),
            "async, 8 writers per server, keys per-user"
        );
        let primaries_text = "1 × 100K ops/s (exponential, mean 10 µs)";
        assert_eq!(primaries(&scenario), primaries_text);
        assert_eq!(
            arrivals(&scenario),
            "peak at 3 s (spread 1.2 s) within 12 s"
        );
        assert_eq!(clients(&scenario), "1M");
        assert_eq!(faults(&scenario), "none");

        let stormy: Value = serde_json::from_str(
            r#"{"connect_timeout_ns": 3000000000,
                "retry": {"max_attempts": 10, "initial_backoff_ns": 1000000000,
                          "multiplier": 1.6, "jitter": "full"},
                "server_crashes": [{"server": 3, "at_ns": 4000000000}],
                "shard_outages": [{"shard": 0, "start_ns": 5000000000,
                                   "end_ns": 20000000000}],
                "outage_mode": "fail",
                "on_disconnect": {"kind": "expire", "ttl_ns": 1000000000}}"#,
        )
        .unwrap();
        assert_eq!(
            patience(&stormy),
            "gives up after 3 s, up to 10 attempts, back-off 1 s ×1.6 (full jitter)"
        );
        assert_eq!(
            faults(&stormy),
            "server 3 crashes at 4 s; primary 0 down at 5 s for 15 s (fail); closed \
             connections' entries expire after 1 s"
        );

        let flaky: Value = serde_json::from_str(
            r#"{"clients": 1000000, "strategy": "coalesced", "writers": 8,
                "key_layout": {"kind": "per-user"},
                "churn": {"flaky_share": 0.2, "mean_connected_ns": 2000000000.0}}"#,
        )
        .unwrap();
        assert_eq!(
            clients(&flaky),
            "1M, 20% of connections flaky (mean life 2 s)"
        );
        assert_eq!(
            registry(&flaky),
            "coalesced (async, outdated writes dropped), 8 writers per server, keys per-user"
        );
    }

    #[test]
    fn shared_values_are_stated_once() {
        let names = ["sync", "async"];
        let same = ["1M".to_string(), "1M".to_string()];
        assert_eq!(merged(&names, &same), "1M");
        let different = ["sync".to_string(), "async".to_string()];
        assert_eq!(merged(&names, &different), "sync: sync; async: async");
    }
}
