//! ARNs as AWS writes them, and AWS's naming rules.

use super::error::EngineError;

/// The region and account the engine's ARNs carry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Arns {
    /// The region (`us-east-1` by default).
    pub region: String,
    /// The account (`123456789012` by default).
    pub account: String,
}

impl Default for Arns {
    fn default() -> Self {
        Arns {
            region: "us-east-1".into(),
            account: "123456789012".into(),
        }
    }
}

impl Arns {
    fn prefix(&self) -> String {
        format!("arn:aws:states:{}:{}", self.region, self.account)
    }

    /// `arn:aws:states:{region}:{account}:stateMachine:{name}`.
    pub fn state_machine(&self, name: &str) -> String {
        format!("{}:stateMachine:{name}", self.prefix())
    }

    /// A version's ARN: the state machine's ARN and `:{version}`.
    pub fn version(&self, name: &str, version: i64) -> String {
        format!("{}:stateMachine:{name}:{version}", self.prefix())
    }

    /// `arn:aws:states:{region}:{account}:execution:{state machine}:{name}`.
    pub fn execution(&self, state_machine: &str, name: &str) -> String {
        format!("{}:execution:{state_machine}:{name}", self.prefix())
    }

    /// `arn:aws:states:{region}:{account}:activity:{name}`.
    pub fn activity(&self, name: &str) -> String {
        format!("{}:activity:{name}", self.prefix())
    }

    /// The state machine's name and, for a version ARN, the version.
    pub fn parse_state_machine(&self, arn: &str) -> Result<(String, Option<i64>), EngineError> {
        let parts = split(arn, "stateMachine")?;
        match parts.as_slice() {
            [name] => Ok(((*name).to_string(), None)),
            [name, v] => match v.parse::<i64>() {
                Ok(v) if v > 0 => Ok(((*name).to_string(), Some(v))),
                _ => Err(EngineError::InvalidArn(format!(
                    "`{arn}`: aliases are not supported, only versions"
                ))),
            },
            _ => Err(EngineError::InvalidArn(format!("`{arn}`"))),
        }
    }

    /// The state machine's and the execution's names.
    pub fn parse_execution(&self, arn: &str) -> Result<(String, String), EngineError> {
        match split(arn, "execution")?.as_slice() {
            [sm, name] => Ok(((*sm).to_string(), (*name).to_string())),
            _ => Err(EngineError::InvalidArn(format!("`{arn}`"))),
        }
    }

    /// The activity's name.
    pub fn parse_activity(&self, arn: &str) -> Result<String, EngineError> {
        match split(arn, "activity")?.as_slice() {
            [name] => Ok((*name).to_string()),
            _ => Err(EngineError::InvalidArn(format!("`{arn}`"))),
        }
    }
}

/// The fields after `arn:aws:states:{region}:{account}:{kind}:`.
fn split<'a>(arn: &'a str, kind: &str) -> Result<Vec<&'a str>, EngineError> {
    let parts: Vec<&str> = arn.split(':').collect();
    if parts.len() < 7 || parts[0] != "arn" || parts[2] != "states" || parts[5] != kind {
        return Err(EngineError::InvalidArn(format!(
            "`{arn}` is not a {kind} arn"
        )));
    }
    Ok(parts[6..].to_vec())
}

/// Checks a state machine, execution or activity name against AWS's rules: 1–80
/// characters, no whitespace, brackets, wildcards, special or control characters.
pub fn validate_name(name: &str) -> Result<(), EngineError> {
    let bad =
        |c: char| c.is_whitespace() || c.is_control() || "<>{}[]?*\"#%\\^|~`$&,;:/".contains(c);
    if name.is_empty() || name.chars().count() > 80 {
        return Err(EngineError::InvalidName(format!(
            "`{name}` must be 1 to 80 characters"
        )));
    }
    if let Some(c) = name.chars().find(|c| bad(*c)) {
        return Err(EngineError::InvalidName(format!(
            "`{name}` contains the character {c:?}"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arns_round_trip() {
        let a = Arns::default();
        let sm = a.state_machine("turn");
        assert_eq!(
            sm,
            "arn:aws:states:us-east-1:123456789012:stateMachine:turn"
        );
        assert_eq!(a.parse_state_machine(&sm).ok(), Some(("turn".into(), None)));
        assert_eq!(
            a.parse_state_machine(&a.version("turn", 3)).ok(),
            Some(("turn".into(), Some(3)))
        );
        let ex = a.execution("turn", "m-1");
        assert_eq!(
            a.parse_execution(&ex).ok(),
            Some(("turn".into(), "m-1".into()))
        );
        assert!(a.parse_execution(&sm).is_err());
        assert!(validate_name("a b").is_err());
        assert!(validate_name("msg-1_2.x").is_ok());
    }
}
