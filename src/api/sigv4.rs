//! SigV4 verification for the API server.
//!
//! When the server is given credentials (`turnflow engine serve --access-key-id …`, or the
//! environment variables `TURNFLOW_ACCESS_KEY_ID` and `TURNFLOW_SECRET_ACCESS_KEY`), every
//! request must carry an `Authorization: AWS4-HMAC-SHA256 …` header made with exactly that key
//! pair, within five minutes of the server's clock. The signature is recomputed with the
//! `aws-sigv4` crate — the signer the AWS SDK for Rust itself uses — over the headers the
//! client says it signed (`SignedHeaders`), the method, path, query and body, for the region
//! and service of the client's credential scope; then compared in constant time.
//!
//! Refusals, as AWS words them:
//! - no `Authorization` header: 403 `MissingAuthenticationTokenException`;
//! - another access key: 403 `UnrecognizedClientException`;
//! - a malformed header, a missing `X-Amz-Date`, a stale date, or a signature that does not
//!   match: 403 `InvalidSignatureException`.

use std::borrow::Cow;
use std::fmt;
use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;
use http::{HeaderMap, Method, Uri};

use super::service::{ApiError, ErrorCode};

/// How far a request's `X-Amz-Date` may be from the server's clock (AWS: 5 minutes).
pub const MAX_SKEW: Duration = Duration::from_secs(5 * 60);

/// Checks request signatures against one key pair.
#[derive(Clone)]
pub struct Verifier {
    access_key_id: String,
    secret_access_key: String,
    max_skew: Duration,
}

impl fmt::Debug for Verifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Verifier")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"<redacted>")
            .finish()
    }
}

/// The parts of an `Authorization: AWS4-HMAC-SHA256 …` header.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Authorization<'a> {
    access_key_id: &'a str,
    date: &'a str,
    region: &'a str,
    service: &'a str,
    signed_headers: Vec<&'a str>,
    signature: &'a str,
}

fn invalid(message: impl Into<String>) -> ApiError {
    ApiError::new(ErrorCode::InvalidSignatureException, message)
}

fn parse_authorization(header: &str) -> Result<Authorization<'_>, ApiError> {
    let rest = header
        .strip_prefix("AWS4-HMAC-SHA256 ")
        .ok_or_else(|| invalid("authorization header must use the AWS4-HMAC-SHA256 algorithm"))?;
    let (mut credential, mut signed, mut signature) = (None, None, None);
    for part in rest.split(',') {
        let part = part.trim();
        if let Some(v) = part.strip_prefix("Credential=") {
            credential = Some(v);
        } else if let Some(v) = part.strip_prefix("SignedHeaders=") {
            signed = Some(v);
        } else if let Some(v) = part.strip_prefix("Signature=") {
            signature = Some(v);
        }
    }
    let missing = |what: &str| {
        invalid(format!(
            "authorization header requires a '{what}' parameter"
        ))
    };
    let credential = credential.ok_or_else(|| missing("Credential"))?;
    let signed = signed.ok_or_else(|| missing("SignedHeaders"))?;
    let signature = signature.ok_or_else(|| missing("Signature"))?;
    let scope: Vec<&str> = credential.split('/').collect();
    let [access_key_id, date, region, service, "aws4_request"] = scope.as_slice() else {
        return Err(invalid(format!(
            "credential '{credential}' is not of the form KEY/YYYYMMDD/REGION/SERVICE/aws4_request"
        )));
    };
    Ok(Authorization {
        access_key_id,
        date,
        region,
        service,
        signed_headers: signed.split(';').filter(|h| !h.is_empty()).collect(),
        signature,
    })
}

fn parse_amz_date(text: &str) -> Option<SystemTime> {
    let t = chrono::NaiveDateTime::parse_from_str(text, "%Y%m%dT%H%M%SZ").ok()?;
    let secs = u64::try_from(t.and_utc().timestamp()).ok()?;
    SystemTime::UNIX_EPOCH.checked_add(Duration::from_secs(secs))
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

impl Verifier {
    /// Accept only requests signed with this key pair.
    pub fn new(access_key_id: impl Into<String>, secret_access_key: impl Into<String>) -> Verifier {
        Verifier {
            access_key_id: access_key_id.into(),
            secret_access_key: secret_access_key.into(),
            max_skew: MAX_SKEW,
        }
    }

    /// The access key id accepted.
    pub fn access_key_id(&self) -> &str {
        &self.access_key_id
    }

    /// Checks one request, as it arrived, against the current time.
    ///
    /// # Errors
    /// The AWS error to answer with (see the module docs).
    pub fn verify(
        &self,
        method: &Method,
        uri: &Uri,
        headers: &HeaderMap,
        body: &[u8],
    ) -> Result<(), ApiError> {
        self.verify_at(method, uri, headers, body, SystemTime::now())
    }

    /// [`Verifier::verify`] at a given time.
    ///
    /// # Errors
    /// The AWS error to answer with (see the module docs).
    pub fn verify_at(
        &self,
        method: &Method,
        uri: &Uri,
        headers: &HeaderMap,
        body: &[u8],
        now: SystemTime,
    ) -> Result<(), ApiError> {
        let Some(header) = headers.get(http::header::AUTHORIZATION) else {
            return Err(ApiError::new(
                ErrorCode::MissingAuthenticationTokenException,
                "missing authentication token: this server requires requests signed with \
                 SigV4 using its configured access key",
            ));
        };
        let header = header
            .to_str()
            .map_err(|_| invalid("authorization header is not ASCII"))?;
        let auth = parse_authorization(header)?;
        if !constant_time_eq(auth.access_key_id.as_bytes(), self.access_key_id.as_bytes()) {
            return Err(ApiError::new(
                ErrorCode::UnrecognizedClientException,
                "the security token included in the request is invalid: unknown access key id",
            ));
        }
        let amz_date = headers
            .get("x-amz-date")
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| invalid("a signed request requires an 'X-Amz-Date' header"))?;
        let time = parse_amz_date(amz_date).ok_or_else(|| {
            invalid(format!(
                "'X-Amz-Date' {amz_date} is not of the form YYYYMMDDTHHMMSSZ"
            ))
        })?;
        if !amz_date.starts_with(auth.date) {
            return Err(invalid(format!(
                "credential scope date {} does not match 'X-Amz-Date' {amz_date}",
                auth.date
            )));
        }
        let skew = now
            .duration_since(time)
            .or_else(|e| Ok::<_, ()>(e.duration()))
            .unwrap_or_default();
        if skew > self.max_skew {
            return Err(invalid(format!(
                "signature expired: {amz_date} is more than {} minutes from the server's time",
                self.max_skew.as_secs() / 60
            )));
        }

        // Exactly the headers the client signed, each value as it arrived.
        let mut signed: Vec<(&str, &str)> = Vec::new();
        for name in &auth.signed_headers {
            let mut any = false;
            for value in headers.get_all(*name) {
                let value = value
                    .to_str()
                    .map_err(|_| invalid(format!("signed header '{name}' is not ASCII")))?;
                signed.push((name, value));
                any = true;
            }
            if !any {
                return Err(invalid(format!(
                    "header '{name}' is listed in SignedHeaders but not in the request"
                )));
            }
        }
        let host = headers
            .get(http::header::HOST)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("localhost");
        let path_and_query = uri.path_and_query().map_or("/", |p| p.as_str());
        let full_uri = format!("http://{host}{path_and_query}");
        let request = SignableRequest::new(
            method.as_str(),
            full_uri,
            signed.into_iter(),
            SignableBody::Bytes(body),
        )
        .map_err(|e| invalid(format!("request cannot be checked: {e}")))?;

        let session_token = headers
            .get("x-amz-security-token")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let identity: Identity = Credentials::new(
            self.access_key_id.clone(),
            self.secret_access_key.clone(),
            session_token,
            None,
            "turnflow-server",
        )
        .into();
        let mut settings = SigningSettings::default();
        // Sign exactly what the client listed: nothing excluded by the crate's defaults.
        settings.excluded_headers = Some(Vec::<Cow<'static, str>>::new());
        let params = v4::SigningParams::builder()
            .identity(&identity)
            .region(auth.region)
            .name(auth.service)
            .time(time)
            .settings(settings)
            .build()
            .map_err(|e| invalid(format!("request cannot be checked: {e}")))?
            .into();
        let expected = sign(request, &params)
            .map_err(|e| invalid(format!("request cannot be checked: {e}")))?;
        if constant_time_eq(expected.signature().as_bytes(), auth.signature.as_bytes()) {
            Ok(())
        } else {
            Err(invalid(
                "the request signature we calculated does not match the signature you provided: \
                 check the secret access key and the signing method",
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BODY: &[u8] = br#"{"name":"triage"}"#;

    /// Signs like a client: the crate's default settings, the headers a client sends.
    fn signed(key: &str, secret: &str, time: SystemTime, body: &[u8]) -> HeaderMap {
        let identity: Identity = Credentials::new(key, secret, None, None, "test").into();
        let params = v4::SigningParams::builder()
            .identity(&identity)
            .region("us-east-1")
            .name("states")
            .time(time)
            .settings(SigningSettings::default())
            .build()
            .map(Into::into);
        let Ok(params) = params else {
            return HeaderMap::new();
        };
        let plain = [
            ("host", "127.0.0.1:8083"),
            ("content-type", "application/x-amz-json-1.0"),
            ("x-amz-target", "AWSStepFunctions.CreateActivity"),
            ("user-agent", "test/1.0"),
        ];
        let request = SignableRequest::new(
            "POST",
            "http://127.0.0.1:8083/",
            plain.iter().copied(),
            SignableBody::Bytes(body),
        );
        let mut headers = HeaderMap::new();
        for (k, v) in plain {
            if let (Ok(k), Ok(v)) = (
                http::HeaderName::from_bytes(k.as_bytes()),
                http::HeaderValue::from_str(v),
            ) {
                headers.insert(k, v);
            }
        }
        let Ok(out) = request.and_then(|r| sign(r, &params)) else {
            return headers;
        };
        for (k, v) in out.output().headers() {
            if let (Ok(k), Ok(v)) = (
                http::HeaderName::from_bytes(k.as_bytes()),
                http::HeaderValue::from_str(v),
            ) {
                headers.insert(k, v);
            }
        }
        headers
    }

    fn check(v: &Verifier, headers: &HeaderMap, body: &[u8], now: SystemTime) -> Option<ErrorCode> {
        let uri = Uri::from_static("/");
        v.verify_at(&Method::POST, &uri, headers, body, now)
            .err()
            .map(|e| e.code)
    }

    fn t(secs: u64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(secs)
    }

    #[test]
    fn a_request_signed_with_the_key_passes() {
        let v = Verifier::new("AKIDTURNFLOW", "s3cret");
        let h = signed("AKIDTURNFLOW", "s3cret", t(1_718_000_000), BODY);
        assert!(h.contains_key("authorization"));
        assert_eq!(check(&v, &h, BODY, t(1_718_000_010)), None);
    }

    #[test]
    fn unsigned_and_foreign_requests_are_refused() {
        let v = Verifier::new("AKIDTURNFLOW", "s3cret");
        let now = t(1_718_000_000);
        let unsigned = HeaderMap::new();
        assert_eq!(
            check(&v, &unsigned, BODY, now),
            Some(ErrorCode::MissingAuthenticationTokenException)
        );
        let other_key = signed("AKIDOTHER", "s3cret", now, BODY);
        assert_eq!(
            check(&v, &other_key, BODY, now),
            Some(ErrorCode::UnrecognizedClientException)
        );
        let other_secret = signed("AKIDTURNFLOW", "guess", now, BODY);
        assert_eq!(
            check(&v, &other_secret, BODY, now),
            Some(ErrorCode::InvalidSignatureException)
        );
    }

    #[test]
    fn a_changed_body_or_a_stale_date_is_refused() {
        let v = Verifier::new("AKIDTURNFLOW", "s3cret");
        let now = t(1_718_000_000);
        let h = signed("AKIDTURNFLOW", "s3cret", now, BODY);
        assert_eq!(
            check(&v, &h, br#"{"name":"other"}"#, now),
            Some(ErrorCode::InvalidSignatureException)
        );
        assert_eq!(
            check(&v, &h, BODY, t(1_718_000_000 + 301)),
            Some(ErrorCode::InvalidSignatureException)
        );
    }

    #[test]
    fn authorization_headers_are_parsed() {
        let a = parse_authorization(
            "AWS4-HMAC-SHA256 Credential=AK/20240102/eu-west-1/states/aws4_request, \
             SignedHeaders=host;x-amz-date, Signature=abc",
        );
        assert_eq!(
            a.ok(),
            Some(Authorization {
                access_key_id: "AK",
                date: "20240102",
                region: "eu-west-1",
                service: "states",
                signed_headers: vec!["host", "x-amz-date"],
                signature: "abc",
            })
        );
        assert!(parse_authorization("Basic abc").is_err());
        assert!(parse_authorization("AWS4-HMAC-SHA256 Credential=AK/x, Signature=a").is_err());
    }
}
