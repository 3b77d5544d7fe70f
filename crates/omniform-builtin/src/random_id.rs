//! `random_id`: random bytes, shown as hex and base64. `byte_length = 16` gives a
//! 32-character hex key, like `openssl rand -hex 16`.

use base64::Engine;
use omniform_core::{AttrPath, AttrType, Attribute, ResourceSchema, Value};
use omniform_provider::{AttrProblem, CreateRequest, PlanRequest, PlanResponse, ProviderError};

pub const TYPE: &str = "random_id";

pub fn schema() -> ResourceSchema {
    ResourceSchema::new(
        TYPE,
        "Random bytes made once and kept in state.",
        vec![
            Attribute::required("byte_length", AttrType::Number)
                .force_new()
                .describe("how many random bytes"),
            Attribute::optional("keepers", AttrType::map(AttrType::Any))
                .force_new()
                .describe("arbitrary values; a change makes new bytes"),
            Attribute::optional("prefix", AttrType::String)
                .force_new()
                .describe("text put before `hex` and `id`"),
            Attribute::optional(crate::rotation::ATTRIBUTE, AttrType::Number)
                .describe("make new bytes once the value is this many days old"),
            Attribute::optional("sensitive", AttrType::Bool)
                .default(false)
                .describe(
                    "treat the bytes as a secret (a key): masked everywhere, encrypted in state",
                ),
            Attribute::computed("id", AttrType::String)
                .describe("the bytes in URL-safe base64 without padding, after `prefix`"),
            Attribute::computed("hex", AttrType::String)
                .describe("the bytes in lowercase hex, after `prefix`"),
            Attribute::computed("b64_url", AttrType::String)
                .describe("the bytes in URL-safe base64 without padding"),
            Attribute::computed("b64_std", AttrType::String)
                .describe("the bytes in standard base64"),
        ],
    )
}

/// The computed attributes that hold the bytes.
const VALUES: [&str; 4] = ["id", "hex", "b64_url", "b64_std"];

/// With `sensitive = true`, the bytes are a secret wherever they appear.
pub fn validate(config: &Value) -> Vec<AttrProblem> {
    crate::in_range(
        config,
        "byte_length",
        1,
        1024,
        "16 bytes give a 32-character hex key",
    )
}

pub fn plan(req: PlanRequest<'_>) -> PlanResponse {
    let mut resp = crate::rotation::plan(req);
    let secret = resp
        .planned
        .get_path(&AttrPath::attr("sensitive"))
        .and_then(Value::as_bool)
        == Some(true);
    if secret {
        for name in VALUES {
            resp.planned.mark_sensitive_at(&AttrPath::attr(name));
        }
    }
    resp
}

pub fn create(req: &CreateRequest) -> Result<Value, ProviderError> {
    let len = req
        .planned
        .get_path(&AttrPath::attr("byte_length"))
        .and_then(Value::as_i64)
        .unwrap_or(0);
    if !(1..=1024).contains(&len) {
        return Err(ProviderError::api(format!(
            "creating random id ({}): byte_length must be 1 to 1024, got {len}",
            req.address
        )));
    }
    // A rollback restores the bytes it had; otherwise they are new.
    let bytes = match req
        .planned
        .get_path(&AttrPath::attr("b64_std"))
        .and_then(Value::as_str)
    {
        Some(b64) => base64::engine::general_purpose::STANDARD
            .decode(b64)
            .map_err(|e| {
                ProviderError::api(format!("restoring random id ({}): {e}", req.address))
            })?,
        None => crate::random_bytes(len as usize)?,
    };
    let prefix = req
        .planned
        .get_path(&AttrPath::attr("prefix"))
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let b64_url = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&bytes);
    let mut state = req.planned.clone();
    state.set_path(
        &AttrPath::attr("hex"),
        Value::String(format!("{prefix}{}", hex::encode(&bytes))),
    );
    state.set_path(
        &AttrPath::attr("id"),
        Value::String(format!("{prefix}{b64_url}")),
    );
    state.set_path(&AttrPath::attr("b64_url"), Value::String(b64_url));
    state.set_path(
        &AttrPath::attr("b64_std"),
        Value::String(base64::engine::general_purpose::STANDARD.encode(&bytes)),
    );
    Ok(state)
}

#[cfg(test)]
mod tests {
    use super::*;
    use omniform_core::InstanceAddress;

    #[test]
    fn sixteen_bytes_make_a_32_character_key() {
        let req = CreateRequest {
            address: InstanceAddress::new(TYPE, "key", None),
            type_name: TYPE.into(),
            planned: Value::map([("byte_length", Value::from(16))]),
        };
        let state = create(&req).unwrap();
        let hex = state
            .get_path(&AttrPath::attr("hex"))
            .unwrap()
            .as_str()
            .unwrap()
            .to_string();
        assert_eq!(hex.len(), 32);
        assert!(hex.chars().all(|c| c.is_ascii_hexdigit()));
        let again = create(&req).unwrap();
        assert_ne!(
            again
                .get_path(&AttrPath::attr("hex"))
                .unwrap()
                .as_str()
                .unwrap(),
            hex
        );
    }

    #[test]
    fn sensitive_bytes_are_marked_in_the_plan() {
        let proposed = Value::map([
            ("byte_length", Value::from(16)),
            ("sensitive", Value::from(true)),
            ("hex", Value::Unknown),
            ("id", Value::Unknown),
        ]);
        let resp = plan(PlanRequest {
            type_name: TYPE,
            prior: None,
            proposed,
            created_at: None,
            now: time::OffsetDateTime::UNIX_EPOCH,
        });
        let hex = resp.planned.get_path(&AttrPath::attr("hex")).unwrap();
        assert!(hex.is_sensitive() && hex.is_unknown());
    }

    #[test]
    fn rejects_a_zero_length() {
        let req = CreateRequest {
            address: InstanceAddress::new(TYPE, "key", None),
            type_name: TYPE.into(),
            planned: Value::map([("byte_length", Value::from(0))]),
        };
        assert!(
            create(&req)
                .unwrap_err()
                .message
                .contains("byte_length must be 1 to 1024")
        );
    }
}
