//! The turn workflow, written once as data and lowered to ASL.
//!
//! A [`Graph`] names its nodes by the [`Node`] enum, so a state name is a Rust identifier and is
//! never typed twice. [`lower`] turns the graph into an [`asl::StateMachine`] for a [`Target`]
//! (activity workers or Lambda functions, both through `${…}` definition substitutions); the
//! compiler then checks and emits it (`lower → check → emit`).
//!
//! The data that flows between states is the turn's ids (conversation, message, customer) and the
//! small facts each step returns under its own field (`$.triage`, `$.retrieval`, …). Transcripts,
//! passages and handoff packages stay in the conversation store and travel by reference.

use serde_json::{Value, json};

use crate::asl::{self, *};
use crate::errors::{self, ErrorName};

macro_rules! names {
    ($(#[$doc:meta])* $vis:vis enum $name:ident { $( $(#[$vdoc:meta])* $variant:ident => $text:expr ),* $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        $vis enum $name { $( $(#[$vdoc])* $variant, )* }

        impl $name {
            /// Every value.
            pub const ALL: &'static [$name] = &[$($name::$variant),*];

            /// The value as written in definitions and payloads.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text,)* }
            }

            /// The value written as `text`, if any.
            pub fn parse(text: &str) -> Option<$name> {
                $name::ALL.iter().copied().find(|v| v.as_str() == text)
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = String::deserialize(deserializer)?;
                $name::parse(&text).ok_or_else(|| {
                    let known: Vec<&str> = $name::ALL.iter().map(|v| v.as_str()).collect();
                    serde::de::Error::custom(format!(
                        "unknown {} \"{text}\": expected one of {}",
                        stringify!($name),
                        known.join(", ")
                    ))
                })
            }
        }
    };
}

macro_rules! nodes {
    ($( $(#[$vdoc:meta])* $variant:ident ),* $(,)?) => {
        names! {
            /// A node of the turn graph; its name is the ASL state name.
            pub enum Node { $( $(#[$vdoc])* $variant => stringify!($variant) ),* }
        }
    };
}

nodes! {
    /// Language, firewall, intent, entities, sentiment and the escalation signals.
    Triage,
    /// Blocked → a refusal; must escalate → Escalate; otherwise → Retrieve.
    Route,
    /// Knowledge-base passages and conversation memory.
    Retrieve,
    /// Back-office reads, and writes proposed with an idempotency key.
    Act,
    /// Policy, grounding and guardrails → respond, commit, needs approval or escalate.
    Verify,
    /// Where Verify's outcome leads.
    Decide,
    /// The human-in-the-loop park on a task token.
    AwaitApproval,
    /// Where the human's decision leads.
    Approved,
    /// Performs the proposed (approved) write.
    Commit,
    /// The reply, in the customer's language, with citations.
    Respond,
    /// The handoff package to the agents' queue.
    Escalate,
    /// The last resort failed: the turn fails and shows up in `turnflow ops failed`.
    EscalationFailed,
}

impl Node {
    /// The activity name of a step (`triage` for `Triage`).
    pub fn activity_name(self) -> String {
        self.as_str().to_lowercase()
    }
}

names! {
    /// Triage's verdict on where the turn goes (`$.triage.route`).
    pub enum TriageRoute {
        /// Answer the customer: retrieve, act, verify, respond.
        Answer => "answer",
        /// Refuse (prompt attack, abuse, off-topic): straight to Respond with a refusal.
        Refuse => "refuse",
        /// Hand to a human now (legal threat, asks for a human, very negative).
        Escalate => "escalate",
    }
}

names! {
    /// Verify's outcome (`$.verdict.outcome`).
    pub enum VerifyOutcome {
        /// Send the drafted reply.
        Respond => "respond",
        /// Perform the proposed write without asking (within policy), then reply.
        Commit => "commit",
        /// Park the proposed write until a human decides.
        NeedsApproval => "needs_approval",
        /// Hand to a human.
        Escalate => "escalate",
    }
}

names! {
    /// A human's decision on a proposed write (`$.approval.decision`).
    pub enum ApprovalDecision {
        /// Perform the write as proposed.
        Approve => "approve",
        /// Do not perform it; reply with the agent's edited message.
        Edit => "edit",
        /// Do not perform it.
        Reject => "reject",
    }
}

/// Where a step's facts are kept in the turn state.
pub fn result_field(node: Node) -> Option<&'static str> {
    Some(match node {
        Node::Triage => "$.triage",
        Node::Retrieve => "$.retrieval",
        Node::Act => "$.action",
        Node::Verify => "$.verdict",
        Node::AwaitApproval => "$.approval",
        Node::Commit => "$.commit",
        Node::Respond => "$.reply",
        Node::Escalate => "$.handoff",
        _ => return None,
    })
}

/// Where the error of a failed step is kept before the turn goes to Escalate.
pub const FAILURE_FIELD: &str = "$.failure";

/// The version of the payload each activity receives (`v`).
pub const PAYLOAD_VERSION: u64 = 1;

/// A test of a choice rule on the turn's facts.
#[derive(Debug, Clone, PartialEq)]
pub enum Test {
    /// The string fact at the path equals the value.
    Equals(&'static str, &'static str),
}

/// A choice rule: when the test holds, go to the node.
#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    /// The test.
    pub when: Test,
    /// Where it leads.
    pub then: Node,
}

/// How long a step may take before Step Functions gives up on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// `TimeoutSeconds`.
    pub timeout_seconds: u64,
    /// `HeartbeatSeconds`: a worker that goes silent this long is presumed dead.
    pub heartbeat_seconds: u64,
}

/// What a node does.
#[derive(Debug, Clone, PartialEq)]
pub enum Spec {
    /// An activity step, retried on transient errors; any other error goes to `on_error`.
    Activity {
        /// Where it goes next (`None`: the turn ends).
        next: Option<Node>,
        /// Its time limits.
        limits: Limits,
        /// Attempts after the first on a transient error.
        retries: u64,
        /// Where an error that retries did not cure goes.
        on_error: Node,
    },
    /// A choice between nodes on the facts.
    Choice {
        /// The rules, in order.
        rules: Vec<Rule>,
        /// Where it goes when no rule holds.
        default: Node,
    },
    /// A park on a task token: a message with the token is put on a queue and the turn waits for
    /// SendTaskSuccess/Failure.
    Callback {
        /// The `${…}` placeholder of the queue URL.
        queue_placeholder: &'static str,
        /// The facts sent along with the token.
        message: Vec<(&'static str, &'static str)>,
        /// Where it goes on an answer.
        next: Node,
        /// Its time limits (the approvals service heartbeats while the approval is open).
        limits: Limits,
        /// Where a timeout, a lapsed heartbeat or a failure goes.
        on_error: Node,
    },
    /// The turn fails with this error.
    Fail {
        /// The error name.
        error: ErrorName,
        /// The cause.
        cause: &'static str,
    },
}

/// The turn workflow as data: nodes in order, and where it starts.
#[derive(Debug, Clone, PartialEq)]
pub struct Graph {
    /// The description written into the definition.
    pub comment: &'static str,
    /// The first node.
    pub start: Node,
    /// Every node with what it does, in the order they are emitted.
    pub nodes: Vec<(Node, Spec)>,
}

/// The turn workflow of DESIGN.md.
pub fn turn() -> Graph {
    let quick = Limits {
        timeout_seconds: 60,
        heartbeat_seconds: 20,
    };
    let model = Limits {
        timeout_seconds: 120,
        heartbeat_seconds: 30,
    };
    let activity = |next: Node, limits: Limits| Spec::Activity {
        next: Some(next),
        limits,
        retries: 3,
        on_error: Node::Escalate,
    };
    let equals = |path: &'static str, value: &'static str, then: Node| Rule {
        when: Test::Equals(path, value),
        then,
    };
    Graph {
        comment: "turnflow: one customer message, one turn (generated by `turnflow compile`; do not edit)",
        start: Node::Triage,
        nodes: vec![
            (Node::Triage, activity(Node::Route, model)),
            (
                Node::Route,
                Spec::Choice {
                    rules: vec![
                        equals(
                            "$.triage.route",
                            TriageRoute::Refuse.as_str(),
                            Node::Respond,
                        ),
                        equals(
                            "$.triage.route",
                            TriageRoute::Escalate.as_str(),
                            Node::Escalate,
                        ),
                    ],
                    default: Node::Retrieve,
                },
            ),
            (Node::Retrieve, activity(Node::Act, quick)),
            (Node::Act, activity(Node::Verify, quick)),
            (Node::Verify, activity(Node::Decide, model)),
            (
                Node::Decide,
                Spec::Choice {
                    rules: vec![
                        equals(
                            "$.verdict.outcome",
                            VerifyOutcome::NeedsApproval.as_str(),
                            Node::AwaitApproval,
                        ),
                        equals(
                            "$.verdict.outcome",
                            VerifyOutcome::Commit.as_str(),
                            Node::Commit,
                        ),
                        equals(
                            "$.verdict.outcome",
                            VerifyOutcome::Escalate.as_str(),
                            Node::Escalate,
                        ),
                    ],
                    default: Node::Respond,
                },
            ),
            (
                Node::AwaitApproval,
                Spec::Callback {
                    queue_placeholder: "ApprovalQueueUrl",
                    message: vec![
                        // Only paths every turn that reaches here has: the helpdesk may not
                        // name the customer (`$.customerId`), but Act, which ran, says who was
                        // verified and what it proposes (`$.action`).
                        ("conversationId", "$.conversationId"),
                        ("messageId", "$.messageId"),
                        ("action", "$.action"),
                        ("reason", "$.verdict.reason"),
                    ],
                    next: Node::Approved,
                    limits: Limits {
                        timeout_seconds: 86_400,
                        heartbeat_seconds: 3_600,
                    },
                    on_error: Node::Escalate,
                },
            ),
            (
                Node::Approved,
                Spec::Choice {
                    rules: vec![equals(
                        "$.approval.decision",
                        ApprovalDecision::Approve.as_str(),
                        Node::Commit,
                    )],
                    default: Node::Respond,
                },
            ),
            (Node::Commit, activity(Node::Respond, quick)),
            (
                Node::Respond,
                Spec::Activity {
                    next: None,
                    limits: model,
                    retries: 3,
                    on_error: Node::Escalate,
                },
            ),
            (
                Node::Escalate,
                Spec::Activity {
                    next: None,
                    limits: quick,
                    retries: 6,
                    on_error: Node::EscalationFailed,
                },
            ),
            (
                Node::EscalationFailed,
                Spec::Fail {
                    error: ErrorName::EscalationFailed,
                    cause: "the turn could not be handed to a human; see the execution history",
                },
            ),
        ],
    }
}

/// What runs the steps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// Activity workers (`turnflow worker`, or the embedded engine's in-process workers):
    /// `Resource` is `${TriageActivityArn}`, ….
    Activities,
    /// Lambda functions from the same handler code: `Resource` is `${TriageFunctionArn}`, ….
    Lambda,
}

impl Target {
    /// The file the definition is written to under `state-machines/`.
    pub fn file_name(self) -> &'static str {
        match self {
            Target::Activities => "turn.asl.json",
            Target::Lambda => "turn-lambda.asl.json",
        }
    }

    /// The `${…}` substitution that names a step's resource.
    pub fn placeholder(self, node: Node) -> String {
        match self {
            Target::Activities => format!("{node}ActivityArn"),
            Target::Lambda => format!("{node}FunctionArn"),
        }
    }
}

/// Lowers the graph to an ASL state machine for `target`.
pub fn lower(graph: &Graph, target: Target) -> StateMachine {
    let states = graph
        .nodes
        .iter()
        .map(|(node, spec)| (node.to_string(), lower_node(*node, spec, target)));
    StateMachine {
        comment: Some(graph.comment.to_owned()),
        start_at: graph.start.to_string(),
        states: states.collect(),
        version: None,
        timeout_seconds: None,
        query_language: None,
    }
}

fn transition(next: Option<Node>) -> Transition {
    next.map_or(Transition::End, |n| Transition::Next(n.to_string()))
}

fn catch_all(on_error: Node) -> Catcher {
    Catcher {
        comment: None,
        error_equals: vec![ErrorName::StatesAll.to_string()],
        next: on_error.to_string(),
        result_path: Some(NullablePath::Path(FAILURE_FIELD.to_owned())),
        output: None,
        assign: None,
    }
}

fn retrier(errors: Vec<ErrorName>, max_attempts: u64) -> Retrier {
    Retrier {
        comment: None,
        error_equals: errors.iter().map(ToString::to_string).collect(),
        interval_seconds: Some(1),
        max_attempts: Some(max_attempts),
        backoff_rate: Some(2.0),
        max_delay_seconds: Some(30),
        jitter_strategy: Some(JitterStrategy::Full),
    }
}

fn lower_node(node: Node, spec: &Spec, target: Target) -> State {
    let mut io = Io::default();
    let kind = match spec {
        Spec::Activity {
            next,
            limits,
            retries,
            on_error,
        } => {
            io.parameters = Some(json!({
                "v": PAYLOAD_VERSION,
                "step": node.activity_name(),
                "idempotencyKey.$": "States.Format('{}/{}', $$.Execution.Name, $$.State.Name)",
                "attempt.$": "$$.State.RetryCount",
                "turn.$": "$",
            }));
            io.result_path = result_field(node).map(|f| NullablePath::Path(f.to_owned()));
            let mut transient = errors::transient_activity_errors();
            transient.extend([ErrorName::StatesTimeout, ErrorName::StatesHeartbeatTimeout]);
            if target == Target::Lambda {
                transient.extend(errors::transient_lambda_errors());
            }
            StateKind::Task(asl::Task {
                transition: transition(*next),
                resource: format!("${{{}}}", target.placeholder(node)),
                errors: ErrorHandling {
                    retry: vec![retrier(transient, *retries)],
                    catch: vec![catch_all(*on_error)],
                },
                timeout_seconds: Some(Dynamic::Literal(limits.timeout_seconds)),
                heartbeat_seconds: (target == Target::Activities)
                    .then_some(Dynamic::Literal(limits.heartbeat_seconds)),
                credentials: None,
            })
        }
        Spec::Choice { rules, default } => StateKind::Choice(asl::Choice {
            choices: rules
                .iter()
                .map(|r| ChoiceRule {
                    comment: None,
                    condition: match r.when {
                        Test::Equals(path, value) => Condition::And(vec![
                            Condition::Compare(Comparison {
                                variable: path.to_owned(),
                                operator: Operator::IsPresent,
                                operand: Value::Bool(true),
                            }),
                            Condition::Compare(Comparison {
                                variable: path.to_owned(),
                                operator: Operator::StringEquals,
                                operand: Value::String(value.to_owned()),
                            }),
                        ]),
                    },
                    next: r.then.to_string(),
                    assign: None,
                    output: None,
                })
                .collect(),
            default: Some(default.to_string()),
        }),
        Spec::Callback {
            queue_placeholder,
            message,
            next,
            limits,
            on_error,
        } => {
            let mut body = serde_json::Map::new();
            body.insert("v".into(), json!(PAYLOAD_VERSION));
            body.insert("taskToken.$".into(), json!("$$.Task.Token"));
            body.insert("executionId.$".into(), json!("$$.Execution.Id"));
            for (key, path) in message {
                body.insert(format!("{key}.$"), json!(path));
            }
            io.parameters = Some(json!({
                "QueueUrl": format!("${{{queue_placeholder}}}"),
                "MessageBody": Value::Object(body),
            }));
            io.result_path = result_field(node).map(|f| NullablePath::Path(f.to_owned()));
            StateKind::Task(asl::Task {
                transition: transition(Some(*next)),
                resource: "arn:aws:states:::sqs:sendMessage.waitForTaskToken".to_owned(),
                errors: ErrorHandling {
                    retry: Vec::new(),
                    catch: vec![catch_all(*on_error)],
                },
                timeout_seconds: Some(Dynamic::Literal(limits.timeout_seconds)),
                heartbeat_seconds: Some(Dynamic::Literal(limits.heartbeat_seconds)),
                credentials: None,
            })
        }
        Spec::Fail { error, cause } => StateKind::Fail(asl::Fail {
            error: Some(Dynamic::Literal(error.to_string())),
            cause: Some(Dynamic::Literal((*cause).to_owned())),
        }),
    };
    State {
        comment: None,
        query_language: None,
        io,
        kind,
    }
}

/// One way through a machine: the states entered, in order, and how it ends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Path {
    /// The states entered.
    pub states: Vec<String>,
    /// Whether the path goes through a `Catch` (an error).
    pub through_error: bool,
}

impl Path {
    /// The state transitions AWS bills for the path: one per state entered.
    pub fn transitions(&self) -> usize {
        self.states.len()
    }
}

/// Every path from `StartAt` to an end that enters no state twice (retries not counted).
pub fn paths(machine: &StateMachine) -> Vec<Path> {
    let mut out = Vec::new();
    let mut stack = vec![(vec![machine.start_at.clone()], false)];
    while let Some((states, through_error)) = stack.pop() {
        let Some(last) = states.last() else { continue };
        let Some(state) = machine.states.get(last) else {
            continue;
        };
        let mut next: Vec<(&str, bool)> = Vec::new();
        if let Some(Transition::Next(n)) = state.transition() {
            next.push((n, false));
        }
        if let StateKind::Choice(c) = &state.kind {
            next.extend(c.choices.iter().map(|r| (r.next.as_str(), false)));
            next.extend(c.default.as_deref().map(|d| (d, false)));
        }
        next.extend(state.catch().iter().map(|c| (c.next.as_str(), true)));
        let ends = matches!(state.transition(), Some(Transition::End))
            || matches!(state.kind, StateKind::Succeed | StateKind::Fail(_));
        if ends {
            out.push(Path {
                states: states.clone(),
                through_error,
            });
        }
        for (n, is_error) in next.into_iter().rev() {
            if states.iter().any(|s| s == n) {
                continue;
            }
            let mut more = states.clone();
            more.push(n.to_owned());
            stack.push((more, through_error || is_error));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_node_is_in_the_graph_once() {
        let g = turn();
        let mut names: Vec<Node> = g.nodes.iter().map(|(n, _)| *n).collect();
        names.sort();
        assert_eq!(names, Node::ALL.to_vec());
    }

    #[test]
    fn a_simple_question_costs_at_most_ten_transitions() {
        let m = lower(&turn(), Target::Activities);
        let all = paths(&m);
        let happy: Vec<&Path> = all.iter().filter(|p| !p.through_error).collect();
        assert!(happy.iter().all(|p| p.transitions() <= 10), "{happy:?}");
        let question = [
            "Triage", "Route", "Retrieve", "Act", "Verify", "Decide", "Respond",
        ];
        assert!(happy.iter().any(|p| p.states == question), "{happy:?}");
        let approved = happy.iter().find(|p| {
            p.states.iter().any(|s| s == "Commit") && p.states.iter().any(|s| s == "AwaitApproval")
        });
        assert_eq!(approved.map(|p| p.transitions()), Some(10));
    }

    #[test]
    fn every_step_retries_transient_errors_and_escalates_the_rest() {
        let m = lower(&turn(), Target::Activities);
        for (name, state) in &m.states {
            let StateKind::Task(task) = &state.kind else {
                continue;
            };
            let catch = state.catch();
            assert_eq!(catch.len(), 1, "{name}");
            assert_eq!(catch[0].error_equals, vec!["States.ALL"]);
            assert!(task.timeout_seconds.is_some(), "{name}");
            if task.resource.starts_with("${") {
                let retry = &state.retry()[0];
                assert!(
                    retry
                        .error_equals
                        .contains(&"Turnflow.ModelThrottled".to_owned())
                );
                assert_eq!(retry.jitter_strategy, Some(JitterStrategy::Full));
                assert_eq!(task.resource, format!("${{{name}ActivityArn}}"));
            }
        }
        assert_eq!(m.states["Escalate"].catch()[0].next, "EscalationFailed");
        assert_eq!(m.states["Triage"].catch()[0].next, "Escalate");
    }

    #[test]
    fn lambda_target_uses_function_placeholders_and_lambda_retries() {
        let m = lower(&turn(), Target::Lambda);
        let StateKind::Task(t) = &m.states["Triage"].kind else {
            panic!("Triage is a task")
        };
        assert_eq!(t.resource, "${TriageFunctionArn}");
        assert!(
            m.states["Triage"].retry()[0]
                .error_equals
                .iter()
                .any(|e| e == "Lambda.ServiceException")
        );
    }

    #[test]
    fn lowering_is_deterministic() {
        let a = asl::to_json_pretty(&lower(&turn(), Target::Activities));
        let b = asl::to_json_pretty(&lower(&turn(), Target::Activities));
        assert_eq!(a, b);
        let parsed = asl::parse(&a).expect("the emitted turn parses");
        assert_eq!(parsed, lower(&turn(), Target::Activities));
    }
}
