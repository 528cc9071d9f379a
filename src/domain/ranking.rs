//! Feed ranking formulas. They depend only on a post's own numbers (never on "now"), so a post's
//! rank changes only when it is voted on, and keyset cursors over the rank stay valid.

/// Seconds of age that one factor of ten in score is worth (12.5 hours, as Reddit's `hot`).
pub const HOT_DECAY_SECS: f64 = 45_000.0;
/// Ranks count seconds from this instant (2025-01-01T00:00:00Z) to keep the numbers small.
const EPOCH_SECS: i64 = 1_735_689_600;

/// The `hot` rank, in seconds: `sign(s) · log10(max(|s|, 1)) · 45000 + (created − epoch)`.
///
/// A newer post outranks an older one with the same score, and each tenfold of net votes is
/// worth 12.5 hours of recency: a post 12.5 h old with score 10 ties a brand-new post with score 1.
pub fn hot(score: i64, created_ms: i64) -> i64 {
    let order = (score.unsigned_abs().max(1) as f64).log10();
    let sign = score.signum() as f64;
    let votes = (sign * order * HOT_DECAY_SECS).round() as i64;
    votes + (created_ms.div_euclid(1000) - EPOCH_SECS)
}

/// Seconds of age that one factor of ten in engagement is worth on `/api/explore` (6 hours): a
/// shorter memory than `hot`, so explore shows what is being engaged with now.
pub const TRENDING_DECAY_SECS: f64 = 21_600.0;

/// Engagement of a post: up votes, and comments counted double (they take more effort).
pub fn engagement(up: u64, comments: u64) -> u64 {
    up.saturating_add(comments.saturating_mul(2))
}

/// The trending rank: `log10(max(engagement, 1)) · 21600 + (created − epoch)`, in seconds.
pub fn trending(engagement: u64, created_ms: i64) -> i64 {
    let order = (engagement.max(1) as f64).log10();
    (order * TRENDING_DECAY_SECS).round() as i64 + (created_ms.div_euclid(1000) - EPOCH_SECS)
}

/// Engagement velocity for `sort=rising`: engagement per hour of age, with the gravity of
/// Hacker News' ranking so a post does not rise forever: `(e + 1) / (hours + 2)^1.5`.
pub fn rising(engagement: u64, age_ms: i64) -> f64 {
    let hours = (age_ms.max(0) as f64) / 3_600_000.0;
    (engagement as f64 + 1.0) / (hours + 2.0).powf(1.5)
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOUR_MS: i64 = 3_600_000;

    #[test]
    fn newer_wins_at_equal_score_and_votes_buy_time() {
        let t = 1_800_000_000_000;
        assert!(hot(0, t + 1000) > hot(0, t));
        assert!(hot(10, t) > hot(1, t));
        assert!(hot(-10, t) < hot(0, t));
        // Score 10 at 12.5 h old ties score 1 brand new (within a second).
        let old = hot(10, t);
        let new = hot(1, t + 45_000 * 1000);
        assert!((old - new).abs() <= 1, "{old} vs {new}");
        // Score 100 a day old beats score 1 an hour old.
        assert!(hot(100, t) > hot(1, t + 24 * HOUR_MS));
    }
}
