//! The core's timers: what is armed, by deadline.
//!
//! Every activity step arms a timeout and a heartbeat deadline and almost always completes
//! long before either. A heap with lazy deletion would keep those dead entries until they
//! come due — and checking one then means replaying its execution from the journal when it
//! has left memory. Here a closed task disarms its timers at once, so only live deadlines
//! are held and every one that fires is real.

use std::collections::{BTreeSet, HashMap};

use turnflow_workflows::interp::Millis;

/// What a deadline is for.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum TimerKey {
    /// A timer of the interpreter (Wait, retry interval, execution timeout), by its id.
    Interp(String),
    /// A task's `TimeoutSeconds`, by the interpreter's task id.
    Timeout(String),
    /// A task's `HeartbeatSeconds`, by the interpreter's task id.
    Heartbeat(String),
}

/// The armed deadlines: at most one per execution and key.
#[derive(Debug, Default)]
pub(crate) struct Timers {
    by_time: BTreeSet<(Millis, i64, TimerKey)>,
    armed: HashMap<(i64, TimerKey), Millis>,
}

impl Timers {
    /// Arms `key` of execution `exec` at `at`, replacing its earlier deadline.
    pub(crate) fn arm(&mut self, exec: i64, key: TimerKey, at: Millis) {
        if let Some(old) = self.armed.insert((exec, key.clone()), at) {
            self.by_time.remove(&(old, exec, key.clone()));
        }
        self.by_time.insert((at, exec, key));
    }

    /// Disarms `key` of execution `exec`, if armed.
    pub(crate) fn disarm(&mut self, exec: i64, key: TimerKey) {
        if let Some(at) = self.armed.remove(&(exec, key.clone())) {
            self.by_time.remove(&(at, exec, key));
        }
    }

    /// Disarms a task's timeout and heartbeat.
    pub(crate) fn disarm_task(&mut self, exec: i64, task_id: &str) {
        self.disarm(exec, TimerKey::Timeout(task_id.to_string()));
        self.disarm(exec, TimerKey::Heartbeat(task_id.to_string()));
    }

    /// The earliest deadline.
    pub(crate) fn next(&self) -> Option<Millis> {
        self.by_time.first().map(|(at, _, _)| *at)
    }

    /// Takes the earliest deadline if it is due at `now`; it is disarmed.
    pub(crate) fn pop_due(&mut self, now: Millis) -> Option<(Millis, i64, TimerKey)> {
        if self.next()? > now {
            return None;
        }
        let (at, exec, key) = self.by_time.pop_first()?;
        self.armed.remove(&(exec, key.clone()));
        Some((at, exec, key))
    }

    /// How many deadlines are armed.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.armed.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(id: &str) -> TimerKey {
        TimerKey::Timeout(id.to_string())
    }

    #[test]
    fn due_deadlines_come_out_in_time_order_and_once() {
        let mut timers = Timers::default();
        timers.arm(2, t("a"), 30);
        timers.arm(1, t("a"), 10);
        timers.arm(1, TimerKey::Heartbeat("a".into()), 20);
        assert_eq!(timers.pop_due(5), None);
        assert_eq!(timers.pop_due(25), Some((10, 1, t("a"))));
        assert_eq!(
            timers.pop_due(25),
            Some((20, 1, TimerKey::Heartbeat("a".into())))
        );
        assert_eq!(timers.pop_due(25), None);
        assert_eq!(timers.next(), Some(30));
        assert_eq!(timers.len(), 1);
    }

    #[test]
    fn rearming_replaces_and_disarming_forgets() {
        let mut timers = Timers::default();
        timers.arm(1, TimerKey::Heartbeat("a".into()), 10);
        timers.arm(1, TimerKey::Heartbeat("a".into()), 40);
        assert_eq!(timers.pop_due(20), None, "the first deadline was replaced");
        timers.arm(1, t("a"), 50);
        timers.arm(1, TimerKey::Interp("w".into()), 60);
        timers.disarm_task(1, "a");
        assert_eq!(timers.len(), 1);
        assert_eq!(
            timers.pop_due(100),
            Some((60, 1, TimerKey::Interp("w".into())))
        );
        assert_eq!(timers.next(), None);
    }
}
