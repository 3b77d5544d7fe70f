//! `omniform_data`: holds a value and replaces itself when `triggers_replace` changes. The
//! same semantics as Terraform's `terraform_data`, so the two can be compared on equal work.

use omniform_core::{AttrPath, AttrType, Attribute, ResourceSchema, Value};
use omniform_provider::{CreateRequest, PlanRequest, PlanResponse, ProviderError, UpdateRequest};

pub const TYPE: &str = "omniform_data";

pub fn schema() -> ResourceSchema {
    ResourceSchema::new(
        TYPE,
        "A value kept in state; `output` mirrors `input` after apply.",
        vec![
            Attribute::optional("input", AttrType::Any)
                .describe("any value; `output` takes it after apply"),
            Attribute::optional("triggers_replace", AttrType::Any)
                .force_new()
                .describe("any value; a change replaces the resource"),
            Attribute::computed("id", AttrType::String).describe("a random UUID made at create"),
            Attribute::computed("output", AttrType::Any).describe("equal to `input` after apply"),
        ],
    )
}

/// `output` is unknown in the plan whenever `input` changes, as with `terraform_data`.
pub fn plan(req: PlanRequest<'_>) -> PlanResponse {
    let input = AttrPath::attr("input");
    let changed = match req.prior {
        None => true,
        Some(prior) => prior.get_path(&input) != req.proposed.get_path(&input),
    };
    let mut planned = req.proposed;
    if changed {
        planned.set_path(&AttrPath::attr("output"), Value::Unknown);
    }
    PlanResponse {
        planned,
        requires_replace: Vec::new(),
        reason: None,
    }
}

pub fn create(req: &CreateRequest) -> Result<Value, ProviderError> {
    let mut state = req.planned.clone();
    let id = crate::known_or(&req.planned, "id", || {
        Ok(Value::String(uuid_v4(&crate::random_bytes(16)?)))
    })?;
    state.set_path(&AttrPath::attr("id"), id);
    copy_input(&mut state);
    Ok(state)
}

pub fn update(req: &UpdateRequest) -> Value {
    let mut state = req.planned.clone();
    copy_input(&mut state);
    state
}

fn copy_input(state: &mut Value) {
    let input = state
        .get_path(&AttrPath::attr("input"))
        .cloned()
        .unwrap_or(Value::Null);
    state.set_path(&AttrPath::attr("output"), input);
}

/// Formats 16 random bytes as a version 4 UUID.
fn uuid_v4(bytes: &[u8]) -> String {
    let mut b = [0u8; 16];
    b.copy_from_slice(&bytes[..16]);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = hex::encode(b);
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use omniform_core::InstanceAddress;
    use time::OffsetDateTime;

    #[test]
    fn output_is_unknown_only_when_input_changes() {
        let prior = Value::map([
            ("input", Value::from("a")),
            ("output", Value::from("a")),
            ("id", Value::from("x")),
        ]);
        let req = |proposed: Value| PlanRequest {
            type_name: TYPE,
            prior: Some(&prior),
            proposed,
            created_at: None,
            now: OffsetDateTime::UNIX_EPOCH,
        };
        assert_eq!(plan(req(prior.clone())).planned, prior);
        let changed = Value::map([
            ("input", Value::from("b")),
            ("output", Value::from("a")),
            ("id", Value::from("x")),
        ]);
        assert_eq!(
            plan(req(changed))
                .planned
                .get_path(&AttrPath::attr("output")),
            Some(&Value::Unknown)
        );
    }

    #[test]
    fn create_sets_a_uuid_and_mirrors_input() {
        let req = CreateRequest {
            address: InstanceAddress::new(TYPE, "a", None),
            type_name: TYPE.into(),
            planned: Value::map([
                ("input", Value::from(3)),
                ("id", Value::Unknown),
                ("output", Value::Unknown),
            ]),
        };
        let state = create(&req).unwrap();
        let id = state
            .get_path(&AttrPath::attr("id"))
            .unwrap()
            .as_str()
            .unwrap()
            .to_string();
        assert_eq!(id.len(), 36);
        assert_eq!(&id[14..15], "4");
        assert_eq!(
            state.get_path(&AttrPath::attr("output")),
            Some(&Value::from(3))
        );
    }
}
