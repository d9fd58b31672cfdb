//! `turnflow deploy`: creates or updates a Standard state machine from a committed definition,
//! with its `${…}` placeholders substituted, and publishes a version. Executions already running
//! stay on the version they started with; new ones start on the new version when started through
//! the version or an alias pointing at it.

use std::collections::BTreeMap;

use aws_sdk_sfn::error::ProvideErrorMetadata as _;
use aws_sdk_sfn::types::StateMachineType;

/// What to deploy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deployment {
    /// The state machine's name.
    pub name: String,
    /// The role Step Functions assumes.
    pub role_arn: String,
    /// The definition as committed, with `${Name}` placeholders.
    pub definition: String,
    /// The value of each placeholder.
    pub substitutions: BTreeMap<String, String>,
    /// Said about the version published.
    pub description: Option<String>,
}

/// What was deployed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deployed {
    /// The state machine.
    pub state_machine_arn: String,
    /// The version published, when the service publishes versions.
    pub version_arn: Option<String>,
    /// True when the state machine was created rather than updated.
    pub created: bool,
}

/// Deployment failures.
#[derive(Debug, thiserror::Error)]
pub enum DeployError {
    /// A placeholder has no value.
    #[error("the definition's placeholder ${{{0}}} has no substitution")]
    MissingSubstitution(String),
    /// Step Functions refused or failed.
    #[error("step functions {operation} failed: {message}")]
    Sfn {
        /// Which call.
        operation: &'static str,
        /// What it said.
        message: String,
    },
}

/// Replaces every `${Name}` of `definition`; a placeholder without a value is an error (AWS
/// would otherwise reject the definition with a less helpful message, or worse, accept it).
pub fn substitute(
    definition: &str,
    substitutions: &BTreeMap<String, String>,
) -> Result<String, DeployError> {
    let mut out = String::with_capacity(definition.len());
    let mut rest = definition;
    while let Some(i) = rest.find("${") {
        out.push_str(&rest[..i]);
        let after = &rest[i + 2..];
        let Some(end) = after.find('}') else {
            out.push_str(&rest[i..]);
            return Ok(out);
        };
        let name = &after[..end];
        let value = substitutions
            .get(name)
            .ok_or_else(|| DeployError::MissingSubstitution(name.to_owned()))?;
        out.push_str(value);
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

fn sfn_error<E>(operation: &'static str, e: &aws_sdk_sfn::error::SdkError<E>) -> DeployError
where
    E: aws_sdk_sfn::error::ProvideErrorMetadata + std::error::Error + 'static,
{
    DeployError::Sfn {
        operation,
        message: match e.code() {
            Some(code) => format!("{code}: {}", e.message().unwrap_or_default()),
            None => format!(
                "{}",
                aws_smithy_types::error::display::DisplayErrorContext(e)
            ),
        },
    }
}

/// Creates or updates the state machine and publishes a version.
pub async fn deploy(
    sfn: &aws_sdk_sfn::Client,
    deployment: &Deployment,
) -> Result<Deployed, DeployError> {
    let definition = substitute(&deployment.definition, &deployment.substitutions)?;
    let mut existing = None;
    let mut pages = sfn.list_state_machines().into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| sfn_error("ListStateMachines", &e))?;
        if let Some(m) = page
            .state_machines()
            .iter()
            .find(|m| m.name() == deployment.name)
        {
            existing = Some(m.state_machine_arn().to_owned());
            break;
        }
    }
    match existing {
        Some(arn) => {
            let mut update = sfn
                .update_state_machine()
                .state_machine_arn(&arn)
                .definition(definition)
                .role_arn(&deployment.role_arn)
                .publish(true);
            if let Some(d) = &deployment.description {
                update = update.version_description(d);
            }
            let out = update
                .send()
                .await
                .map_err(|e| sfn_error("UpdateStateMachine", &e))?;
            Ok(Deployed {
                state_machine_arn: arn,
                version_arn: out.state_machine_version_arn().map(str::to_owned),
                created: false,
            })
        }
        None => {
            let mut create = sfn
                .create_state_machine()
                .name(&deployment.name)
                .definition(definition)
                .role_arn(&deployment.role_arn)
                .r#type(StateMachineType::Standard)
                .publish(true);
            if let Some(d) = &deployment.description {
                create = create.version_description(d);
            }
            let out = create
                .send()
                .await
                .map_err(|e| sfn_error("CreateStateMachine", &e))?;
            Ok(Deployed {
                version_arn: out.state_machine_version_arn().map(str::to_owned),
                state_machine_arn: out.state_machine_arn,
                created: true,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_placeholder_is_substituted_or_named() {
        let subs = BTreeMap::from([("A".to_owned(), "arn:a".to_owned())]);
        assert_eq!(
            substitute(r#"{"R": "${A}", "S": "${A}x"}"#, &subs).ok(),
            Some(r#"{"R": "arn:a", "S": "arn:ax"}"#.to_owned())
        );
        let missing = substitute(r#"{"R": "${B}"}"#, &subs);
        assert_eq!(
            missing.map_err(|e| e.to_string()),
            Err("the definition's placeholder ${B} has no substitution".to_owned())
        );
    }
}
