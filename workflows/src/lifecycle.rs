//! The conversation lifecycle across turns, as a `statig` state machine.
//!
//! ```text
//! open ──message──▶ bot ──approval requested──▶ awaiting_approval ──decided──▶ bot
//!   │                │ ▲                                  │
//!   │                │ └──────handed back──── with_human ◀─┘ escalated
//!   │                └──resolved──▶ resolved ──message──▶ bot
//!   └── every state but closed ──closed──▶ closed
//! ```
//!
//! The transitions live in the handlers below; the turn graph itself is data (see
//! [`crate::turn`]). An event a state does not take is refused with
//! [`LifecycleError::Illegal`], never a panic, and the conversation is left as it was.

use serde::{Deserialize, Serialize};
use statig::blocking::{InitializedStateMachine, IntoStateMachineExt as _};
/// What happens to a conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LifecycleEvent {
    /// The customer wrote a message (a turn starts).
    CustomerMessage,
    /// The bot answered the turn.
    BotReplied,
    /// A write was proposed and waits for a human's approval.
    ApprovalRequested,
    /// The human approved, edited or rejected the proposal.
    ApprovalDecided,
    /// The conversation was handed to a human agent.
    Escalated,
    /// The human agent handed the conversation back to the bot.
    HandedBack,
    /// The customer's issue is resolved.
    Resolved,
    /// The conversation is closed for good.
    Closed,
}

/// Where a conversation is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Created, no turn yet.
    Open,
    /// The bot is handling it.
    Bot,
    /// A proposed write waits for a human's decision.
    AwaitingApproval,
    /// A human agent has it.
    WithHuman,
    /// Resolved; a new message reopens it.
    Resolved,
    /// Closed; it takes no more events.
    Closed,
}

impl Status {
    /// The status as stored and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Open => "open",
            Status::Bot => "bot",
            Status::AwaitingApproval => "awaiting_approval",
            Status::WithHuman => "with_human",
            Status::Resolved => "resolved",
            Status::Closed => "closed",
        }
    }
}

/// A refused lifecycle event.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LifecycleError {
    /// The event is not legal in the conversation's current status.
    #[error("a conversation in status {} does not take the event {event:?}", .status.as_str())]
    Illegal {
        /// The status the conversation stays in.
        status: Status,
        /// The refused event.
        event: LifecycleEvent,
    },
}

/// The statig machine; its generated `State` and `Superstate` enums stay private to this file.
mod machine {
    use serde::{Deserialize, Serialize};
    use statig::prelude::*;

    use super::{LifecycleEvent, Status};

    /// The storage shared by every state of the machine.
    #[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
    pub(crate) struct Conversation {
        /// Customer messages since the conversation was last resolved.
        pub(crate) unresolved_turns: u32,
    }

    /// Set by a handler that took the event.
    #[derive(Debug, Default)]
    pub(crate) struct Dispatch {
        pub(crate) taken: bool,
    }

    #[state_machine(
        initial = "State::open()",
        state(derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)),
        superstate(derive(Debug))
    )]
    impl Conversation {
        #[state(superstate = "active")]
        fn open(&mut self, context: &mut Dispatch, event: &LifecycleEvent) -> Outcome<State> {
            match event {
                LifecycleEvent::CustomerMessage => {
                    self.unresolved_turns += 1;
                    take(context, State::bot())
                }
                LifecycleEvent::Escalated => take(context, State::with_human()),
                _ => Super,
            }
        }

        #[state(superstate = "active")]
        fn bot(&mut self, context: &mut Dispatch, event: &LifecycleEvent) -> Outcome<State> {
            match event {
                LifecycleEvent::CustomerMessage => {
                    self.unresolved_turns += 1;
                    handled(context)
                }
                LifecycleEvent::BotReplied => handled(context),
                LifecycleEvent::ApprovalRequested => take(context, State::awaiting_approval()),
                LifecycleEvent::Escalated => take(context, State::with_human()),
                LifecycleEvent::Resolved => {
                    self.unresolved_turns = 0;
                    take(context, State::resolved())
                }
                _ => Super,
            }
        }

        #[state(superstate = "active")]
        fn awaiting_approval(
            &mut self,
            context: &mut Dispatch,
            event: &LifecycleEvent,
        ) -> Outcome<State> {
            match event {
                LifecycleEvent::CustomerMessage => {
                    self.unresolved_turns += 1;
                    handled(context)
                }
                LifecycleEvent::ApprovalDecided => take(context, State::bot()),
                LifecycleEvent::Escalated => take(context, State::with_human()),
                _ => Super,
            }
        }

        #[state(superstate = "active")]
        fn with_human(&mut self, context: &mut Dispatch, event: &LifecycleEvent) -> Outcome<State> {
            match event {
                LifecycleEvent::CustomerMessage | LifecycleEvent::Escalated => handled(context),
                LifecycleEvent::HandedBack => take(context, State::bot()),
                LifecycleEvent::Resolved => {
                    self.unresolved_turns = 0;
                    take(context, State::resolved())
                }
                _ => Super,
            }
        }

        #[state(superstate = "active")]
        fn resolved(&mut self, context: &mut Dispatch, event: &LifecycleEvent) -> Outcome<State> {
            match event {
                LifecycleEvent::CustomerMessage => {
                    self.unresolved_turns = 1;
                    take(context, State::bot())
                }
                _ => Super,
            }
        }

        #[superstate]
        fn active(context: &mut Dispatch, event: &LifecycleEvent) -> Outcome<State> {
            match event {
                LifecycleEvent::Closed => take(context, State::closed()),
                _ => Super,
            }
        }

        #[state]
        fn closed(event: &LifecycleEvent) -> Outcome<State> {
            let _ = event;
            Super
        }
    }

    fn take(context: &mut Dispatch, target: State) -> Outcome<State> {
        context.taken = true;
        Transition(target)
    }

    fn handled(context: &mut Dispatch) -> Outcome<State> {
        context.taken = true;
        Handled
    }
    pub(crate) fn status_of(state: &State) -> Status {
        match state {
            State::Open {} => Status::Open,
            State::Bot {} => Status::Bot,
            State::AwaitingApproval {} => Status::AwaitingApproval,
            State::WithHuman {} => Status::WithHuman,
            State::Resolved {} => Status::Resolved,
            State::Closed {} => Status::Closed,
        }
    }

    pub(crate) fn state_of(status: Status) -> State {
        match status {
            Status::Open => State::open(),
            Status::Bot => State::bot(),
            Status::AwaitingApproval => State::awaiting_approval(),
            Status::WithHuman => State::with_human(),
            Status::Resolved => State::resolved(),
            Status::Closed => State::closed(),
        }
    }
}

use machine::{Conversation, Dispatch, state_of, status_of};

/// A conversation's lifecycle: the statig machine with a typed refusal of illegal events.
#[derive(Debug)]
pub struct Lifecycle {
    machine: InitializedStateMachine<Conversation>,
}

impl Default for Lifecycle {
    fn default() -> Self {
        Lifecycle::new()
    }
}

impl Lifecycle {
    /// A new conversation, in status `open`.
    pub fn new() -> Lifecycle {
        Lifecycle::from_snapshot(Snapshot {
            v: Snapshot::VERSION,
            status: Status::Open,
            unresolved_turns: 0,
        })
    }

    /// The current status.
    pub fn status(&self) -> Status {
        status_of(self.machine.state())
    }

    /// Customer messages since the conversation was last resolved.
    pub fn unresolved_turns(&self) -> u32 {
        self.machine.inner().unresolved_turns
    }

    /// Applies an event; an illegal one is refused and changes nothing.
    pub fn apply(&mut self, event: LifecycleEvent) -> Result<Status, LifecycleError> {
        let before = self.snapshot();
        let mut dispatch = Dispatch::default();
        self.machine.handle_with_context(&event, &mut dispatch);
        if dispatch.taken {
            Ok(self.status())
        } else {
            *self = Lifecycle::from_snapshot(before);
            Err(LifecycleError::Illegal {
                status: self.status(),
                event,
            })
        }
    }

    /// The persisted form.
    pub fn snapshot(&self) -> Snapshot {
        Snapshot {
            v: Snapshot::VERSION,
            status: self.status(),
            unresolved_turns: self.unresolved_turns(),
        }
    }

    /// Rebuilds a lifecycle from its persisted form.
    pub fn from_snapshot(snapshot: Snapshot) -> Lifecycle {
        let conversation = Conversation {
            unresolved_turns: snapshot.unresolved_turns,
        };
        let mut machine = conversation.uninitialized_state_machine();
        *machine.state_mut() = state_of(snapshot.status);
        Lifecycle {
            machine: machine.init_with_context(&mut Dispatch::default()),
        }
    }
}

/// A lifecycle as persisted with the conversation (a versioned wire format).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Snapshot {
    /// The format version.
    pub v: u32,
    /// The status.
    pub status: Status,
    /// Customer messages since the conversation was last resolved.
    pub unresolved_turns: u32,
}

impl Snapshot {
    /// The version this code writes.
    pub const VERSION: u32 = 1;
}

impl Serialize for Lifecycle {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.snapshot().serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Lifecycle {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let snapshot = Snapshot::deserialize(deserializer)?;
        if snapshot.v > Snapshot::VERSION {
            return Err(serde::de::Error::custom(format!(
                "lifecycle snapshot version {} is newer than this build reads ({})",
                snapshot.v,
                Snapshot::VERSION
            )));
        }
        Ok(Lifecycle::from_snapshot(snapshot))
    }
}

#[cfg(test)]
mod tests {
    use super::LifecycleEvent as E;
    use super::Status as S;
    use super::*;

    #[test]
    fn a_turn_with_approval_goes_back_to_the_bot() {
        let mut l = Lifecycle::new();
        assert_eq!(l.apply(E::CustomerMessage), Ok(S::Bot));
        assert_eq!(l.apply(E::ApprovalRequested), Ok(S::AwaitingApproval));
        assert_eq!(l.apply(E::ApprovalDecided), Ok(S::Bot));
        assert_eq!(l.apply(E::Resolved), Ok(S::Resolved));
        assert_eq!(l.apply(E::CustomerMessage), Ok(S::Bot));
        assert_eq!(l.unresolved_turns(), 1);
    }

    #[test]
    fn illegal_events_are_refused_and_change_nothing() {
        let mut l = Lifecycle::new();
        l.apply(E::CustomerMessage).expect("legal");
        l.apply(E::CustomerMessage).expect("legal");
        let err = l
            .apply(E::ApprovalDecided)
            .expect_err("no approval is pending");
        assert_eq!(
            err,
            LifecycleError::Illegal {
                status: S::Bot,
                event: E::ApprovalDecided
            }
        );
        assert_eq!(l.status(), S::Bot);
        assert_eq!(l.unresolved_turns(), 2);
        l.apply(E::Closed).expect("legal");
        for e in [E::CustomerMessage, E::Escalated, E::Closed, E::Resolved] {
            assert!(l.apply(e).is_err(), "closed must refuse {e:?}");
        }
        assert_eq!(l.status(), S::Closed);
    }

    #[test]
    fn snapshots_round_trip_through_json() {
        let mut l = Lifecycle::new();
        l.apply(E::CustomerMessage).expect("legal");
        l.apply(E::Escalated).expect("legal");
        let json = serde_json::to_string(&l).expect("serializes");
        assert_eq!(
            json,
            r#"{"v":1,"status":"with_human","unresolved_turns":1}"#
        );
        let back: Lifecycle = serde_json::from_str(&json).expect("deserializes");
        assert_eq!(back.snapshot(), l.snapshot());
        let mut back = back;
        assert_eq!(back.apply(E::HandedBack), Ok(S::Bot));
    }

    #[test]
    fn a_newer_snapshot_is_refused() {
        let err =
            serde_json::from_str::<Lifecycle>(r#"{"v":2,"status":"bot","unresolved_turns":0}"#)
                .expect_err("too new");
        assert!(err.to_string().contains("newer"), "{err}");
    }

    proptest::proptest! {
        #[test]
        fn any_event_sequence_never_panics_and_closed_is_final(
            events in proptest::collection::vec(0usize..8, 0..40)
        ) {
            const ALL: [E; 8] = [E::CustomerMessage, E::BotReplied, E::ApprovalRequested,
                E::ApprovalDecided, E::Escalated, E::HandedBack, E::Resolved, E::Closed];
            let mut l = Lifecycle::new();
            let mut closed = false;
            for i in events {
                let before = l.snapshot();
                match l.apply(ALL[i]) {
                    Ok(_) => proptest::prop_assert!(!closed),
                    Err(_) => proptest::prop_assert_eq!(l.snapshot(), before),
                }
                closed |= l.status() == S::Closed;
            }
        }
    }
}
