//! S3 settings: the standard `AWS_*` environment variables, overridden by `SET s3.<key> = ...`
//! in the session, overridden by an external table's `OPTIONS ('s3.<key>' '...')`.
//!
//! Keys are object_store's (`endpoint`, `region`, `access_key_id`, `secret_access_key`,
//! `session_token`, `allow_http`, `virtual_hosted_style_request`, `skip_signature`, ...) plus
//! flint's retry knobs `max_retries` and `retry_timeout` (seconds).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use object_store::ObjectStore;
use object_store::RetryConfig;
use object_store::aws::{AmazonS3Builder, AmazonS3ConfigKey};

use crate::error::{Error, Result};

/// Keys handled by flint itself rather than by object_store's builder.
const RETRY_KEYS: [&str; 2] = ["max_retries", "retry_timeout"];

/// S3 settings set in the session or on a table (on top of the environment).
#[derive(Clone, Default, PartialEq, Eq)]
pub struct S3Config {
    settings: BTreeMap<String, String>,
}

impl std::fmt::Debug for S3Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map().entries(self.entries()).finish()
    }
}

/// `s3.endpoint`, `aws_endpoint`, `aws.endpoint` and `endpoint` all name the same key.
pub fn normalize_key(key: &str) -> String {
    let k = key.trim().to_lowercase();
    let k = k
        .strip_prefix("s3.")
        .or_else(|| k.strip_prefix("aws."))
        .or_else(|| k.strip_prefix("aws_"))
        .unwrap_or(&k)
        .to_string();
    match k.as_str() {
        "endpoint_url" => "endpoint".into(),
        "access_key" => "access_key_id".into(),
        "secret_key" | "secret" => "secret_access_key".into(),
        "token" => "session_token".into(),
        "url_style" => "virtual_hosted_style_request".into(),
        _ => k,
    }
}

fn is_secret(key: &str) -> bool {
    key.contains("secret") || key.contains("token") || key.contains("customer_key")
}

impl S3Config {
    /// No overrides: only the environment applies.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets a key (with or without the `s3.` prefix); unknown keys are an error.
    pub fn set(&mut self, key: &str, value: &str) -> Result<()> {
        let k = normalize_key(key);
        let v = value.trim().to_string();
        if k == "virtual_hosted_style_request" && key.to_lowercase().ends_with("url_style") {
            // DuckDB's s3_url_style: 'path' or 'vhost'
            let vhost = v.eq_ignore_ascii_case("vhost");
            self.settings.insert(k, vhost.to_string());
            return Ok(());
        }
        if RETRY_KEYS.contains(&k.as_str()) {
            parse_retry_number(&k, &v)?;
        } else {
            k.parse::<AmazonS3ConfigKey>().map_err(|_| {
                Error::plan(format!(
                    "unknown S3 setting \"{key}\" (e.g. s3.endpoint, s3.region, s3.access_key_id, \
                     s3.secret_access_key, s3.session_token, s3.allow_http, \
                     s3.virtual_hosted_style_request, s3.max_retries, s3.retry_timeout)"
                ))
            })?;
        }
        self.settings.insert(k, v);
        Ok(())
    }

    /// Whether `key` names an S3 setting (`s3.*`, `aws.*`, `aws_*`).
    pub fn is_s3_key(key: &str) -> bool {
        let k = key.trim().to_lowercase();
        k.starts_with("s3.") || k.starts_with("aws.") || k.starts_with("aws_")
    }

    /// This configuration with `other`'s settings on top.
    pub fn merged(&self, other: &S3Config) -> S3Config {
        let mut settings = self.settings.clone();
        settings.extend(other.settings.clone());
        S3Config { settings }
    }

    /// The settings as `(s3.key, value)` pairs, secrets masked (for `SHOW ALL`).
    pub fn entries(&self) -> Vec<(String, String)> {
        self.settings
            .iter()
            .map(|(k, v)| {
                let shown = if is_secret(k) {
                    "********".to_string()
                } else {
                    v.clone()
                };
                (format!("s3.{k}"), shown)
            })
            .collect()
    }

    /// A key identifying the store these settings build for `bucket` (secrets included).
    pub fn cache_key(&self, bucket: &str) -> String {
        let mut key = format!("s3://{bucket}");
        for (k, v) in &self.settings {
            key.push_str(&format!("\u{0}{k}={v}"));
        }
        key
    }

    /// Builds the S3 store for `bucket`: environment first, then these settings.
    pub fn build(&self, bucket: &str) -> Result<Arc<dyn ObjectStore>> {
        let mut builder = AmazonS3Builder::from_env()
            .with_bucket_name(bucket)
            .with_virtual_hosted_style_request(false);
        let mut retry = RetryConfig::default();
        for (k, v) in &self.settings {
            match k.as_str() {
                "max_retries" => retry.max_retries = parse_retry_number(k, v)? as usize,
                "retry_timeout" => {
                    retry.retry_timeout = Duration::from_secs_f64(parse_retry_number(k, v)?)
                }
                _ => {
                    let key = k
                        .parse::<AmazonS3ConfigKey>()
                        .map_err(|e| Error::plan(format!("S3 setting {k}: {e}")))?;
                    builder = builder.with_config(key, v.clone());
                }
            }
        }
        builder = builder.with_retry(retry);
        let store = builder
            .build()
            .map_err(|e| Error::io(format!("cannot configure S3 for bucket {bucket}: {e}")))?;
        Ok(Arc::new(store))
    }
}

fn parse_retry_number(key: &str, v: &str) -> Result<f64> {
    let t = v.trim().trim_end_matches('s');
    t.parse::<f64>()
        .ok()
        .filter(|n| *n >= 0.0 && n.is_finite())
        .ok_or_else(|| {
            Error::plan(format!(
                "S3 setting {key} needs a non-negative number, got '{v}'"
            ))
        })
}

#[cfg(test)]
mod tests {
    use super::{S3Config, normalize_key};

    #[test]
    fn keys_are_normalized_and_checked() {
        assert_eq!(normalize_key("S3.Endpoint"), "endpoint");
        assert_eq!(normalize_key("aws_region"), "region");
        assert_eq!(normalize_key("aws.secret_key"), "secret_access_key");
        let mut c = S3Config::new();
        c.set("s3.endpoint", "http://127.0.0.1:9000").unwrap();
        c.set("s3.allow_http", "true").unwrap();
        c.set("s3.access_key_id", "id").unwrap();
        c.set("s3.secret_access_key", "shh").unwrap();
        c.set("s3.max_retries", "2").unwrap();
        assert!(c.set("s3.bogus_key", "x").is_err());
        assert!(c.set("s3.max_retries", "-1").is_err());
        let shown = format!("{:?}", c.entries());
        assert!(!shown.contains("shh"), "{shown}");
        if let Err(e) = c.build("bucket") {
            panic!("{e}");
        }
    }
}
