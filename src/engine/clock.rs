//! The engine's clock: the system clock, or a manual one that tests advance.

use std::fmt;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use turnflow_workflows::interp::Millis;

/// A callback run when a virtual clock moves.
pub type Wake = Box<dyn Fn() + Send + Sync>;

/// Where the engine reads the time: every event, timer and deadline goes through it.
pub trait Clock: Send + Sync + fmt::Debug {
    /// Now, in milliseconds since the Unix epoch.
    fn now(&self) -> Millis;

    /// True when time moves only by [`Clock::on_advance`] notifications (a manual clock):
    /// the engine then never waits on the real time for its timers.
    fn is_virtual(&self) -> bool {
        false
    }

    /// Registers a callback to run each time a virtual clock moves.
    fn on_advance(&self, wake: Wake) {
        let _ = wake;
    }
}

/// The system clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Millis {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
            .unwrap_or(0)
    }
}

/// A clock that moves only when told: tests run in virtual time without sleeping.
pub struct ManualClock {
    now: AtomicI64,
    wakers: Mutex<Vec<Wake>>,
}

impl fmt::Debug for ManualClock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ManualClock")
            .field("now", &self.now.load(Ordering::SeqCst))
            .finish()
    }
}

impl ManualClock {
    /// A clock showing `start`.
    pub fn new(start: Millis) -> Arc<ManualClock> {
        Arc::new(ManualClock {
            now: AtomicI64::new(start),
            wakers: Mutex::new(Vec::new()),
        })
    }

    /// Moves the clock forward by `ms` and wakes the engines that use it.
    pub fn advance(&self, ms: i64) {
        self.now.fetch_add(ms, Ordering::SeqCst);
        let wakers = self.wakers.lock().unwrap_or_else(|p| p.into_inner());
        wakers.iter().for_each(|w| w());
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Millis {
        self.now.load(Ordering::SeqCst)
    }

    fn is_virtual(&self) -> bool {
        true
    }

    fn on_advance(&self, wake: Wake) {
        self.wakers
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(wake);
    }
}
