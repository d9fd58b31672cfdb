//! The AWS adapters: SQS ingest, the DynamoDB store, approvals over task tokens, Bedrock,
//! the Step Functions driver. SDK types stay in here; handlers see the ports.

pub mod approval;
pub mod bedrock;
pub mod config;
pub mod deploy;
pub mod dynamodb;
pub mod sqs_ingest;
pub mod worker;
