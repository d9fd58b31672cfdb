//! One configuration for the AWS adapters, following AWS's conventions.
//!
//! With nothing set, the SDK's default chain applies: `AWS_REGION`, `AWS_PROFILE`,
//! `AWS_ENDPOINT_URL` (and the per-service `AWS_ENDPOINT_URL_<SERVICE>`), credentials from the
//! environment, profiles, SSO or instance roles. [`AwsSettings`] overrides what a caller states
//! explicitly — tests pass their moto endpoint and static credentials here rather than through
//! the process environment, so tests running side by side do not interfere.

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_sqs::config::Credentials;

/// What to override in the SDK's default configuration.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AwsSettings {
    /// The region (else `AWS_REGION` or the profile's).
    pub region: Option<String>,
    /// One endpoint for every service (else `AWS_ENDPOINT_URL`): moto, LocalStack, turnflow's own
    /// Step Functions API.
    pub endpoint_url: Option<String>,
    /// The shared-config profile (else `AWS_PROFILE`).
    pub profile: Option<String>,
    /// Static credentials `(access key id, secret)`, for local servers that accept anything.
    pub static_credentials: Option<(String, String)>,
}

impl AwsSettings {
    /// Settings for a local server that accepts any credentials (moto, turnflow's API).
    pub fn local(endpoint_url: &str) -> AwsSettings {
        AwsSettings {
            region: Some("us-east-1".into()),
            endpoint_url: Some(endpoint_url.into()),
            profile: None,
            static_credentials: Some(("test".into(), "test".into())),
        }
    }

    /// Loads the SDK configuration: the default chain, then these overrides. Build it once and
    /// derive every client from it.
    pub async fn load(&self) -> SdkConfig {
        let mut loader = aws_config::defaults(BehaviorVersion::latest());
        if let Some(region) = &self.region {
            loader = loader.region(Region::new(region.clone()));
        }
        if let Some(url) = &self.endpoint_url {
            loader = loader.endpoint_url(url);
        }
        if let Some(profile) = &self.profile {
            loader = loader.profile_name(profile);
        }
        if let Some((id, secret)) = &self.static_credentials {
            loader = loader.credentials_provider(Credentials::new(
                id.clone(),
                secret.clone(),
                None,
                None,
                "turnflow-static",
            ));
        }
        loader.load().await
    }
}
