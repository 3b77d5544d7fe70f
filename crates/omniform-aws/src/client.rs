//! Connecting to AWS: settings, credentials checked once up front, one client per service,
//! an interceptor that counts every call (and adds configured headers), and turning SDK
//! errors into provider errors.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, Mutex};

use aws_config::BehaviorVersion;
use aws_config::retry::RetryConfig;
use aws_sdk_ec2::config::{Credentials, Region};
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient,
    SharedHttpConnector,
};
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::BeforeTransmitInterceptorContextMut;
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, Metadata};
use aws_smithy_runtime_api::client::result::{ConnectorError, SdkError};
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::body::SdkBody;
use aws_smithy_types::byte_stream::ByteStream;
use aws_smithy_types::config_bag::ConfigBag;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use omniform_core::Value;
use omniform_provider::{ErrorKind, ProviderError};

/// Every API call made, in order, with counts per service.
#[derive(Debug, Default)]
pub struct CallLog {
    entries: Mutex<Vec<(String, String)>>,
}

impl CallLog {
    fn record(&self, service: &str, operation: &str) {
        self.entries
            .lock()
            .expect("call log")
            .push((service.to_string(), operation.to_string()));
    }

    /// Every call so far as (service, operation).
    pub fn entries(&self) -> Vec<(String, String)> {
        self.entries.lock().expect("call log").clone()
    }

    /// Calls so far per service.
    pub fn counts(&self) -> BTreeMap<String, u64> {
        let mut out = BTreeMap::new();
        for (service, _) in self.entries.lock().expect("call log").iter() {
            *out.entry(service.clone()).or_insert(0) += 1;
        }
        out
    }
}

/// Counts each request attempt and adds the configured extra headers (for emulators and
/// proxies, such as moto's `x-moto-account-id`).
#[derive(Debug, Clone)]
struct Calls {
    service: &'static str,
    log: Arc<CallLog>,
    headers: Arc<Vec<(String, String)>>,
}

impl Intercept for Calls {
    fn name(&self) -> &'static str {
        "OmniformCalls"
    }

    fn modify_before_signing(
        &self,
        ctx: &mut BeforeTransmitInterceptorContextMut<'_>,
        _components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        for (k, v) in self.headers.iter() {
            ctx.request_mut().headers_mut().insert(k.clone(), v.clone());
        }
        let operation = cfg
            .load::<Metadata>()
            .map(|m| m.name().to_string())
            .unwrap_or_default();
        self.log.record(self.service, &operation);
        Ok(())
    }
}

/// The SDK clients of one configured provider, for tools and tests that need to reach AWS
/// beside omniform (to change things behind its back, or check what is left).
#[derive(Debug, Clone)]
pub struct Clients {
    pub ec2: aws_sdk_ec2::Client,
    pub route53: aws_sdk_route53::Client,
    pub secrets: aws_sdk_secretsmanager::Client,
    pub region: String,
}

fn setting<'a>(settings: &'a Value, name: &str) -> Option<&'a str> {
    settings
        .as_map()?
        .get(name)?
        .as_str()
        .filter(|s| !s.is_empty())
}

impl Clients {
    /// Loads the AWS configuration from the provider settings and the standard credential
    /// chain, and checks the credentials with one cheap call.
    pub async fn connect(settings: &Value, log: Arc<CallLog>) -> Result<Self, ProviderError> {
        let mut loader = aws_config::defaults(BehaviorVersion::latest());
        if let Some(region) = setting(settings, "region") {
            loader = loader.region(Region::new(region.to_string()));
        }
        if let Some(profile) = setting(settings, "profile") {
            loader = loader.profile_name(profile);
        }
        if let Some(url) = setting(settings, "endpoint_url") {
            loader = loader.endpoint_url(url);
        }
        match (
            setting(settings, "access_key"),
            setting(settings, "secret_key"),
        ) {
            (Some(ak), Some(sk)) => {
                loader = loader.credentials_provider(Credentials::new(
                    ak,
                    sk,
                    None,
                    None,
                    "omniform-settings",
                ));
            }
            (None, None) => {}
            _ => {
                return Err(ProviderError::configuration(
                    "configuring the aws provider: access_key and secret_key go together; set both or neither",
                ));
            }
        }
        let attempts = settings
            .as_map()
            .and_then(|m| m.get("max_attempts"))
            .and_then(Value::as_i64)
            .unwrap_or(5)
            .clamp(1, 20) as u32;
        loader = loader.retry_config(RetryConfig::adaptive().with_max_attempts(attempts));
        let sdk = loader.load().await;
        let Some(region) = sdk.region().map(|r| r.to_string()) else {
            return Err(ProviderError::configuration(
                "configuring the aws provider: no region; set region in [provider.aws] or AWS_REGION",
            ));
        };
        let Some(creds) = sdk.credentials_provider() else {
            return Err(ProviderError::configuration(
                "configuring the aws provider: no credentials provider; set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, AWS_PROFILE, or access_key and secret_key in [provider.aws]",
            ));
        };
        use aws_credential_types::provider::ProvideCredentials;
        if let Err(e) = creds.provide_credentials().await {
            return Err(ProviderError::configuration(format!(
                "configuring the aws provider: no AWS credentials found ({e}); set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, AWS_PROFILE, or access_key and secret_key in [provider.aws]"
            )));
        }
        let headers: Vec<(String, String)> = settings
            .as_map()
            .and_then(|m| m.get("request_headers"))
            .and_then(Value::as_map)
            .map(|m| {
                m.iter()
                    .filter_map(|(k, v)| Some((k.to_lowercase(), v.as_str()?.to_string())))
                    .collect()
            })
            .unwrap_or_default();
        let headers = Arc::new(headers);
        let calls = |service| Calls {
            service,
            log: log.clone(),
            headers: headers.clone(),
        };
        let ec2 = aws_sdk_ec2::Client::from_conf(
            aws_sdk_ec2::config::Builder::from(&sdk)
                .interceptor(calls("ec2"))
                .build(),
        );
        // The same HTTPS client the SDK would pick, wrapped (see `UnwrapCdata`).
        let http = sdk.http_client().unwrap_or_else(|| {
            use aws_smithy_http_client::tls::{Provider, rustls_provider::CryptoMode};
            aws_smithy_http_client::Builder::new()
                .tls_provider(Provider::Rustls(CryptoMode::AwsLc))
                .build_https()
        });
        let route53 = aws_sdk_route53::Client::from_conf(
            aws_sdk_route53::config::Builder::from(&sdk)
                .interceptor(calls("route53"))
                .http_client(UnwrapCdata(http))
                .build(),
        );
        let secrets = aws_sdk_secretsmanager::Client::from_conf(
            aws_sdk_secretsmanager::config::Builder::from(&sdk)
                .interceptor(calls("secretsmanager"))
                .build(),
        );
        // One cheap call tells bad credentials (or an unreachable endpoint) before any
        // resource is touched.
        ec2.describe_availability_zones()
            .send()
            .await
            .map_err(|e| {
                let mut err = sdk_error(
                    "checking the AWS credentials with DescribeAvailabilityZones",
                    e,
                );
                err.kind = ErrorKind::Configuration;
                err
            })?;
        Ok(Self {
            ec2,
            route53,
            secrets,
            region,
        })
    }
}

/// Unwraps `<![CDATA[...]]>` sections of XML answers before the SDK reads them. Some AWS
/// emulators (moto) wrap text such as DNS record values in CDATA, which the SDK's XML
/// decoder skips, so the values would read as empty. AWS itself never sends CDATA, so this
/// changes nothing there.
#[derive(Debug)]
struct UnwrapCdata(SharedHttpClient);

impl HttpClient for UnwrapCdata {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        SharedHttpConnector::new(UnwrapCdataConnector(
            self.0.http_connector(settings, components),
        ))
    }
}

#[derive(Debug)]
struct UnwrapCdataConnector(SharedHttpConnector);

impl HttpConnector for UnwrapCdataConnector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let inner = self.0.clone();
        HttpConnectorFuture::new(async move {
            let mut response = inner.call(request).await?;
            let body = response.take_body();
            let bytes = ByteStream::new(body)
                .collect()
                .await
                .map_err(|e| ConnectorError::io(e.into()))?
                .into_bytes();
            if let Some(fixed) = unwrap_cdata(&bytes) {
                response.headers_mut().remove("content-length");
                *response.body_mut() = SdkBody::from(fixed);
            } else {
                *response.body_mut() = SdkBody::from(bytes);
            }
            Ok(response)
        })
    }
}

/// The body with every CDATA section replaced by its escaped text, or `None` when there is
/// none.
fn unwrap_cdata(body: &[u8]) -> Option<Vec<u8>> {
    const OPEN: &[u8] = b"<![CDATA[";
    const CLOSE: &[u8] = b"]]>";
    let find = |hay: &[u8], needle: &[u8], from: usize| {
        hay[from..]
            .windows(needle.len())
            .position(|w| w == needle)
            .map(|p| p + from)
    };
    let mut start = find(body, OPEN, 0)?;
    let mut out = Vec::with_capacity(body.len());
    let mut copied = 0;
    loop {
        out.extend_from_slice(&body[copied..start]);
        let text_start = start + OPEN.len();
        let Some(end) = find(body, CLOSE, text_start) else {
            out.extend_from_slice(&body[start..]);
            return Some(out);
        };
        for &b in &body[text_start..end] {
            match b {
                b'&' => out.extend_from_slice(b"&amp;"),
                b'<' => out.extend_from_slice(b"&lt;"),
                b'>' => out.extend_from_slice(b"&gt;"),
                other => out.push(other),
            }
        }
        copied = end + CLOSE.len();
        match find(body, OPEN, copied) {
            Some(next) => start = next,
            None => {
                out.extend_from_slice(&body[copied..]);
                return Some(out);
            }
        }
    }
}

/// Error codes that mean "no such object".
const NOT_FOUND: &[&str] = &[
    "InvalidInstanceID.NotFound",
    "InvalidGroup.NotFound",
    "InvalidGroupId.Malformed",
    "InvalidAllocationID.NotFound",
    "InvalidAssociationID.NotFound",
    "InvalidVolume.NotFound",
    "NoSuchHostedZone",
    "ResourceNotFoundException",
];

const AUTH: &[&str] = &[
    "AuthFailure",
    "UnauthorizedOperation",
    "InvalidClientTokenId",
    "SignatureDoesNotMatch",
    "UnrecognizedClientException",
    "AccessDenied",
    "AccessDeniedException",
    "ExpiredToken",
];

/// Turns an SDK error into a provider error: "creating EC2 instance (app): Code: message".
pub fn sdk_error<E, R>(what: impl fmt::Display, err: SdkError<E, R>) -> ProviderError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: fmt::Debug,
{
    if let SdkError::DispatchFailure(failure) = &err {
        // The request never reached AWS: say why in one line, not the whole chain.
        let mut cause: &dyn std::error::Error = &err;
        while let Some(next) = cause.source() {
            cause = next;
        }
        let why = if failure.is_timeout() {
            "timed out".to_string()
        } else {
            cause.to_string()
        };
        return ProviderError::new(
            ErrorKind::Api,
            format!(
                "{what}: could not reach AWS ({why}); check endpoint_url, the network and any proxy"
            ),
        );
    }
    let code = err.code().map(str::to_string);
    let message = err.message().map(str::to_string);
    let kind = match code.as_deref() {
        Some(c) if NOT_FOUND.contains(&c) => ErrorKind::NotFound,
        Some(c) if AUTH.contains(&c) => ErrorKind::Configuration,
        _ => ErrorKind::Api,
    };
    let detail = match (code, message) {
        (Some(c), Some(m)) => format!("{c}: {m}"),
        (Some(c), None) => c,
        _ => aws_smithy_types::error::display::DisplayErrorContext(&err).to_string(),
    };
    ProviderError::new(kind, format!("{what}: {detail}"))
}

/// Splits ids into groups of `n` (filters take at most 200 values).
pub fn chunks<T: Clone>(items: &[T], n: usize) -> Vec<Vec<T>> {
    items.chunks(n).map(<[T]>::to_vec).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cdata_is_unwrapped_and_escaped() {
        let body = b"<A><Value><![CDATA[192.0.2.1]]></Value><T><![CDATA[\"v=spf1 <all> & more\"]]></T></A>";
        let fixed = unwrap_cdata(body).unwrap();
        assert_eq!(
            String::from_utf8(fixed).unwrap(),
            "<A><Value>192.0.2.1</Value><T>\"v=spf1 &lt;all&gt; &amp; more\"</T></A>"
        );
        assert!(unwrap_cdata(b"<A>plain</A>").is_none());
    }
}
