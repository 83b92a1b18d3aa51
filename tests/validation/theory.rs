//! The reference values: closed forms of queueing theory that the simulator must reproduce.
//!
//! Each formula names the textbook it comes from. Rates are per second and times in
//! seconds throughout; `a = λ/μ` is the offered load in Erlangs and `ρ = λ/(cμ)` the
//! utilization of a station with `c` servers.

/// Mean wait in queue of an M/G/1 station, by the Pollaczek–Khinchine mean-value formula
/// `W_q = λ E[S²] / (2 (1 − ρ))` (Kleinrock, Queueing Systems Vol. 1, ch. 5; Gross &
/// Harris, Fundamentals of Queueing Theory, the M/G/1 chapter). Exponential service gives M/M/1,
/// `W_q = ρ / (μ − λ)`; deterministic service gives M/D/1, half of that.
pub fn mg1_mean_wait_s(arrival_rate_per_s: f64, mean_service_s: f64, service_cv: f64) -> f64 {
    let utilization = arrival_rate_per_s * mean_service_s;
    let second_moment_s2 = mean_service_s * mean_service_s * (1.0 + service_cv * service_cv);
    arrival_rate_per_s * second_moment_s2 / (2.0 * (1.0 - utilization))
}

/// The Erlang B (loss) probability of `c` servers offered `a` Erlangs, by the recursion
/// `B(k) = a B(k−1) / (k + a B(k−1))`, `B(0) = 1`, which never overflows where `a^c / c!`
/// would (Kleinrock Vol. 1, ch. 3, M/M/m/m; Gross & Harris, ch. 2, Erlang's loss formula).
pub fn erlang_b(servers: u32, offered_erlangs: f64) -> f64 {
    (1..=servers).fold(1.0, |blocking, k| {
        offered_erlangs * blocking / (f64::from(k) + offered_erlangs * blocking)
    })
}

/// The Erlang C probability that an arrival to an M/M/c queue waits, from Erlang B:
/// `C = B / (1 − ρ (1 − B))` (Kleinrock Vol. 1, ch. 3, M/M/m; Gross & Harris, ch. 2).
pub fn erlang_c(servers: u32, offered_erlangs: f64) -> f64 {
    let utilization = offered_erlangs / f64::from(servers);
    let blocking = erlang_b(servers, offered_erlangs);
    blocking / (1.0 - utilization * (1.0 - blocking))
}

/// Mean wait in queue of an M/M/c station: `W_q = C / (cμ − λ)` (Gross & Harris, ch. 2, M/M/c).
pub fn mmc_mean_wait_s(arrival_rate_per_s: f64, service_rate_per_s: f64, servers: u32) -> f64 {
    let offered = arrival_rate_per_s / service_rate_per_s;
    let drain_rate_per_s = f64::from(servers) * service_rate_per_s - arrival_rate_per_s;
    erlang_c(servers, offered) / drain_rate_per_s
}

/// The probability that an M/M/c station's sojourn (wait plus service) is at most `t_s`,
/// for an arrival that does wait. A waiting arrival's wait is exponential at the drain rate
/// `γ = cμ − λ` (Gross & Harris, ch. 2, the M/M/c waiting-time distribution), and its own
/// service is an independent exponential at `μ`, so its sojourn is their hypoexponential
/// sum.
pub fn mmc_waited_sojourn_cdf(
    arrival_rate_per_s: f64,
    service_rate_per_s: f64,
    servers: u32,
    t_s: f64,
) -> f64 {
    let mu = service_rate_per_s;
    let gamma = f64::from(servers) * mu - arrival_rate_per_s;
    if (gamma - mu).abs() < 1e-9 * mu {
        return 1.0 - (-mu * t_s).exp() * (1.0 + mu * t_s);
    }
    1.0 - (gamma * (-mu * t_s).exp() - mu * (-gamma * t_s).exp()) / (gamma - mu)
}

/// The blocking probability of an M/M/c/K station (`c` servers, room for `K` in all):
/// `p_n ∝ a^n / n!` up to `c`, then `∝ a^n / (c! c^(n−c))`, and by PASTA an arrival is
/// turned away with probability `p_K` (Kleinrock Vol. 1, ch. 3; Gross & Harris, ch. 2).
pub fn mmck_blocking(offered_erlangs: f64, servers: u32, capacity: u32) -> f64 {
    let mut term = 1.0;
    let mut total = 1.0;
    for n in 1..=capacity {
        term *= offered_erlangs / f64::from(n.min(servers));
        total += term;
    }
    term / total
}

/// Fluid limit of a FIFO station overloaded for a window: arrivals at `λ` for `window_s`
/// seconds against capacity `μ < λ`. The `k`-th job finishes near `k/μ`, so the last of the
/// `λW` jobs finishes near `λW/μ` (the deterministic fluid approximation: Newell,
/// Applications of Queueing Theory; Kleinrock, Queueing Systems Vol. 2, ch. 2).
pub fn fluid_last_departure_s(
    arrival_rate_per_s: f64,
    service_rate_per_s: f64,
    window_s: f64,
) -> f64 {
    arrival_rate_per_s * window_s / service_rate_per_s
}

/// Fluid limit of the mean time in system over the same overload: the job arriving at `t`
/// leaves near `λt/μ`, so it stays `t (λ − μ)/μ`, and averaged over arrivals uniform in
/// the window that is `(λ − μ) W / (2μ)`.
pub fn fluid_mean_delay_s(arrival_rate_per_s: f64, service_rate_per_s: f64, window_s: f64) -> f64 {
    (arrival_rate_per_s - service_rate_per_s) * window_s / (2.0 * service_rate_per_s)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-12 * a.abs().max(b.abs()).max(1.0)
    }

    #[test]
    fn pollaczek_khinchine_reduces_to_mm1_and_md1() {
        // λ = 0.8, μ = 1: M/M/1 waits ρ/(μ − λ) = 4, M/D/1 half of that.
        assert!(close(mg1_mean_wait_s(0.8, 1.0, 1.0), 4.0));
        assert!(close(mg1_mean_wait_s(0.8, 1.0, 0.0), 2.0));
    }

    #[test]
    fn erlang_values_match_hand_computation() {
        // B(2, 1) = (1/2) / (1 + 1 + 1/2) = 0.2; C = 0.2 / (1 − 0.5 × 0.8) = 1/3.
        assert!(close(erlang_b(2, 1.0), 0.2));
        assert!(close(erlang_c(2, 1.0), 1.0 / 3.0));
        // One server: the probability of waiting is the utilization, and W_q is M/M/1's.
        assert!(close(erlang_c(1, 0.7), 0.7));
        assert!(close(
            mmc_mean_wait_s(0.7, 1.0, 1),
            mg1_mean_wait_s(0.7, 1.0, 1.0)
        ));
    }

    #[test]
    fn finite_capacity_matches_its_special_cases() {
        // K = c is the Erlang loss system.
        assert!(close(mmck_blocking(3.0, 4, 4), erlang_b(4, 3.0)));
        // M/M/1/K: p_K = (1 − ρ) ρ^K / (1 − ρ^(K+1)).
        let rho: f64 = 1.5;
        let expected = (1.0 - rho) * rho.powi(5) / (1.0 - rho.powi(6));
        assert!(close(mmck_blocking(rho, 1, 5), expected));
    }

    #[test]
    fn waited_sojourn_cdf_is_a_distribution_and_continuous_at_gamma_equal_mu() {
        assert_eq!(mmc_waited_sojourn_cdf(1.0, 1.0, 2, 0.0), 0.0);
        assert!(mmc_waited_sojourn_cdf(1.0, 1.0, 3, 50.0) > 1.0 - 1e-9);
        // γ = 2 × 1 − 1 = μ takes the special form; a nearby γ gives nearly the same value.
        let at = mmc_waited_sojourn_cdf(1.0, 1.0, 2, 0.7);
        let near = mmc_waited_sojourn_cdf(1.0 - 1e-6, 1.0, 2, 0.7);
        assert!((at - near).abs() < 1e-5, "{at} vs {near}");
    }

    #[test]
    fn fluid_values() {
        // Twice the capacity for 1.5 s: done at 3 s; the mean stay is 0.75 s.
        assert!(close(fluid_last_departure_s(2e5, 1e5, 1.5), 3.0));
        assert!(close(fluid_mean_delay_s(2e5, 1e5, 1.5), 0.75));
    }
}
