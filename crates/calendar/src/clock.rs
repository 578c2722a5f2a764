//! [`Clock`]: where every part of Satria takes "now" from. In service it is the
//! system clock; tests, drills and the simulator hold it in their hand and move
//! it. One type for both, so no component has a clock of its own.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

/// Milliseconds since the Unix epoch (UTC) by the system clock; 0 if the
/// system clock is before 1970.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// A source of "now" in UTC epoch milliseconds: the system clock, or a
/// hand-held one that moves only when told. Cheap to clone; the clones of a
/// hand-held clock share one time, so a test that moves its copy moves the
/// engine's and the HTTP handlers' too.
#[derive(Debug, Clone, Default)]
pub struct Clock(Option<Arc<AtomicI64>>);

impl Clock {
    /// The system clock.
    pub fn system() -> Clock {
        Clock(None)
    }

    /// A hand-held clock showing `start_ms` until it is set or advanced.
    pub fn manual(start_ms: i64) -> Clock {
        Clock(Some(Arc::new(AtomicI64::new(start_ms))))
    }

    /// Whether this is a hand-held clock.
    pub fn is_manual(&self) -> bool {
        self.0.is_some()
    }

    /// Now, in UTC epoch milliseconds.
    pub fn now_ms(&self) -> i64 {
        match &self.0 {
            None => now_ms(),
            Some(t) => t.load(Ordering::SeqCst),
        }
    }

    /// Sets a hand-held clock to `ms`.
    ///
    /// # Panics
    /// On the system clock: nothing may move real time, and a caller that
    /// tries has mixed up its clocks.
    pub fn set_ms(&self, ms: i64) {
        self.hand().store(ms, Ordering::SeqCst);
    }

    /// Moves a hand-held clock forward by `ms` (backward if negative).
    ///
    /// # Panics
    /// On the system clock, as [`Clock::set_ms`].
    pub fn advance_ms(&self, ms: i64) {
        self.hand().fetch_add(ms, Ordering::SeqCst);
    }

    fn hand(&self) -> &AtomicI64 {
        match &self.0 {
            Some(t) => t,
            None => panic!("the system clock cannot be set"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hand_held_clock_moves_only_when_told_and_its_clones_move_with_it() {
        let c = Clock::manual(1_000);
        let copy = c.clone();
        assert_eq!(c.now_ms(), 1_000);
        c.advance_ms(500);
        assert_eq!(copy.now_ms(), 1_500);
        copy.set_ms(42);
        assert_eq!(c.now_ms(), 42);
        assert!(c.is_manual());
    }

    #[test]
    fn the_system_clock_reads_real_time_and_cannot_be_set() {
        let c = Clock::system();
        assert!(!c.is_manual());
        // 2024-01-01T00:00:00Z: any machine running this is later.
        assert!(c.now_ms() > 1_704_067_200_000);
        let r = std::panic::catch_unwind(|| c.set_ms(0));
        assert!(r.is_err());
    }
}
