//! Tick labels and axis ranges that a reader takes in at a glance.
//!
//! Charts never show `1e9` or `0.30000000000000004`: counts read as `500M` or `1.5B`,
//! durations carry their unit (`250 µs`, `20 ms`, `1.5 s`), shares read as percentages, and
//! axis ranges end on round numbers so the last tick is labelled.

/// A count with an SI-like suffix: `999`, `1.5K`, `500M`, `1B`.
pub fn count(value: f64) -> String {
    let magnitude = value.abs();
    let (scaled, suffix) = if magnitude >= 1e9 {
        (value / 1e9, "B")
    } else if magnitude >= 1e6 {
        (value / 1e6, "M")
    } else if magnitude >= 1e3 {
        (value / 1e3, "K")
    } else {
        (value, "")
    };
    format!("{}{suffix}", decimal(scaled, 2))
}

/// A whole number with thousands separators: `4,096`; decimals are dropped.
pub fn grouped(value: f64) -> String {
    if !value.is_finite() {
        return "?".to_string();
    }
    let digits = format!("{:.0}", value.abs());
    let mut out = String::new();
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index) % 3 == 0 {
            out.push(',');
        }
        out.push(digit);
    }
    if value < -0.5 { format!("-{out}") } else { out }
}

/// A rate per second: `100K/s`.
pub fn rate_per_s(value: f64) -> String {
    format!("{}/s", count(value))
}

/// A duration given in milliseconds, in the unit that keeps it short.
pub fn duration_ms(value_ms: f64) -> String {
    let magnitude = value_ms.abs();
    if magnitude == 0.0 {
        "0".to_string()
    } else if magnitude < 1e-3 {
        format!("{} ns", decimal(value_ms * 1e6, 1))
    } else if magnitude < 1.0 {
        format!("{} µs", decimal(value_ms * 1e3, 1))
    } else if magnitude < 1e3 {
        format!("{} ms", decimal(value_ms, 1))
    } else {
        format!("{} s", decimal(value_ms / 1e3, 2))
    }
}

/// A fraction as a percentage: `0.5` reads `50%`, `0.999` reads `99.9%`, and a small
/// one keeps its first significant digit (`0.00001` reads `0.001%`, not `0%`).
pub fn percent(fraction: f64) -> String {
    let value = fraction * 100.0;
    let decimals = if value > 0.0 && value < 0.01 {
        (-value.log10()).ceil() as usize
    } else {
        2
    };
    format!("{}%", decimal(value, decimals))
}

/// Seconds on a time axis, without a unit (the axis label carries it).
pub fn seconds(value_s: f64) -> String {
    decimal(value_s, 2)
}

/// `value` with at most `max_decimals` decimals and no trailing zeros.
pub fn decimal(value: f64, max_decimals: usize) -> String {
    let text = format!("{value:.max_decimals$}");
    let text = if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        text
    };
    if text == "-0" { "0".to_string() } else { text }
}

/// The smallest "round" number (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6 or 8 times a power of ten)
/// at or above `value`, so the top of an axis wastes at most a fifth of it;
/// 1 for a value that is zero, negative or not finite, so an axis is never empty.
pub fn round_up(value: f64) -> f64 {
    if !(value.is_finite() && value > 0.0) {
        return 1.0;
    }
    let power = 10f64.powf(value.log10().floor());
    [1.0, 1.2, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0]
        .iter()
        .map(|step| step * power)
        .find(|candidate| *candidate >= value * (1.0 - 1e-12))
        .unwrap_or(10.0 * power)
}

/// A logarithmic axis range covering `[low, high]`, widened to whole decades so that every
/// tick is a power of ten; one decade around a single value.
pub fn decades(low: f64, high: f64) -> (f64, f64) {
    let low = if low > 0.0 && low.is_finite() {
        low
    } else {
        1.0
    };
    let high = if high >= low && high.is_finite() {
        high
    } else {
        low
    };
    let bottom = 10f64.powf(low.log10().floor());
    let mut top = 10f64.powf(high.log10().ceil());
    if top <= bottom {
        top = bottom * 10.0;
    }
    (bottom, top)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_read_with_suffixes() {
        assert_eq!(count(0.0), "0");
        assert_eq!(count(999.0), "999");
        assert_eq!(count(0.25), "0.25");
        assert_eq!(count(1_500.0), "1.5K");
        assert_eq!(count(500_000_000.0), "500M");
        assert_eq!(count(1_000_000_000.0), "1B");
        assert_eq!(count(2_500_000.0), "2.5M");
        assert_eq!(rate_per_s(330_000.0), "330K/s");
        assert_eq!(grouped(4_096.0), "4,096");
        assert_eq!(grouped(500_000_000.0), "500,000,000");
        assert_eq!(grouped(999.0), "999");
        assert_eq!(grouped(-1_234.0), "-1,234");
    }

    #[test]
    fn durations_pick_their_unit() {
        assert_eq!(duration_ms(0.0), "0");
        assert_eq!(duration_ms(0.25), "250 µs");
        assert_eq!(duration_ms(0.0005), "500 ns");
        assert_eq!(duration_ms(20.0), "20 ms");
        assert_eq!(duration_ms(1_500.0), "1.5 s");
        assert_eq!(duration_ms(100_000.0), "100 s");
    }

    #[test]
    fn percentages_and_decimals_drop_trailing_zeros() {
        assert_eq!(percent(0.5), "50%");
        assert_eq!(percent(0.999), "99.9%");
        assert_eq!(percent(1.0), "100%");
        assert_eq!(percent(0.00001), "0.001%");
        assert_eq!(percent(0.0001), "0.01%");
        assert_eq!(percent(0.0), "0%");
        assert_eq!(decimal(0.1 + 0.2, 2), "0.3");
        assert_eq!(decimal(-0.0001, 2), "0");
        assert_eq!(seconds(12.0), "12");
    }

    #[test]
    fn round_up_lands_on_round_numbers() {
        assert_eq!(round_up(0.0), 1.0);
        assert_eq!(round_up(f64::NAN), 1.0);
        assert_eq!(round_up(1.0), 1.0);
        assert_eq!(round_up(1.3), 1.5);
        assert_eq!(round_up(2.1), 2.5);
        assert_eq!(round_up(3.0), 3.0);
        assert_eq!(round_up(9.0), 10.0);
        assert_eq!(round_up(1_000_000.0), 1_000_000.0);
        assert_eq!(round_up(550_986.0), 600_000.0);
        assert_eq!(round_up(0.031), 0.04);
    }

    #[test]
    fn decades_cover_the_values() {
        assert_eq!(decades(0.2, 6_000.0), (0.1, 10_000.0));
        assert_eq!(decades(1.0, 1.0), (1.0, 10.0));
        assert_eq!(decades(0.0, 0.0), (1.0, 10.0));
        assert_eq!(decades(5.0, f64::INFINITY), (1.0, 10.0));
    }
}
