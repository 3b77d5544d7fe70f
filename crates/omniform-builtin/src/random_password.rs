//! `random_password`: a random string from the chosen character classes. Its `result` is
//! always sensitive.

use omniform_core::{AttrPath, AttrType, Attribute, ResourceSchema, Value};
use omniform_provider::{AttrProblem, CreateRequest, ProviderError};

pub const TYPE: &str = "random_password";

const UPPER: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
const LOWER: &str = "abcdefghijklmnopqrstuvwxyz";
const NUMERIC: &str = "0123456789";
const SPECIAL: &str = "!@#$%&*()-_=+[]{}<>:?";

pub fn schema() -> ResourceSchema {
    let class = |name: &str, what: &str| {
        Attribute::optional(name, AttrType::Bool)
            .default(true)
            .force_new()
            .describe(what)
    };
    ResourceSchema::new(
        TYPE,
        "A random password made once and kept, encrypted, in state.",
        vec![
            Attribute::required("length", AttrType::Number)
                .force_new()
                .describe("how many characters"),
            class("special", "use special characters"),
            class("upper", "use upper-case letters"),
            class("lower", "use lower-case letters"),
            class("numeric", "use digits"),
            Attribute::optional("override_special", AttrType::String)
                .force_new()
                .describe("the special characters to use instead of the default set"),
            Attribute::optional("keepers", AttrType::map(AttrType::Any))
                .force_new()
                .describe("arbitrary values; a change makes a new password"),
            Attribute::optional(crate::rotation::ATTRIBUTE, AttrType::Number)
                .describe("make a new password once it is this many days old"),
            Attribute::computed("result", AttrType::String)
                .sensitive()
                .describe("the password"),
            Attribute::computed("id", AttrType::String).describe("always \"none\""),
        ],
    )
}

fn flag(v: &Value, name: &str) -> bool {
    v.get_path(&AttrPath::attr(name))
        .and_then(Value::as_bool)
        .unwrap_or(true)
}

pub fn validate(config: &Value) -> Vec<AttrProblem> {
    crate::in_range(
        config,
        "length",
        1,
        4096,
        "16 to 64 characters make a good password",
    )
}

pub fn create(req: &CreateRequest) -> Result<Value, ProviderError> {
    let p = &req.planned;
    let length = p
        .get_path(&AttrPath::attr("length"))
        .and_then(Value::as_i64)
        .unwrap_or(0);
    if !(1..=4096).contains(&length) {
        return Err(ProviderError::api(format!(
            "creating random password ({}): length must be 1 to 4096, got {length}",
            req.address
        )));
    }
    let special = p
        .get_path(&AttrPath::attr("override_special"))
        .and_then(Value::as_str)
        .unwrap_or(SPECIAL);
    let mut alphabet = String::new();
    for (on, chars) in [
        (flag(p, "upper"), UPPER),
        (flag(p, "lower"), LOWER),
        (flag(p, "numeric"), NUMERIC),
        (flag(p, "special"), special),
    ] {
        if on {
            alphabet.push_str(chars);
        }
    }
    let alphabet: Vec<char> = alphabet.chars().collect();
    if alphabet.is_empty() {
        return Err(ProviderError::api(format!(
            "creating random password ({}): every character class is turned off; enable at least one of upper, lower, numeric, special",
            req.address
        )));
    }
    // A rollback restores the password it had; otherwise it is new.
    let password = crate::known_or(p, "result", || {
        Ok(Value::String(pick(&alphabet, length as usize)?))
    })?;
    let mut state = req.planned.clone();
    state.set_path(&AttrPath::attr("result"), password.unmarked().sensitive());
    state.set_path(&AttrPath::attr("id"), Value::from("none"));
    Ok(state)
}

/// Picks `n` characters uniformly, rejecting bytes that would bias the choice.
fn pick(alphabet: &[char], n: usize) -> Result<String, ProviderError> {
    let limit = 256 - (256 % alphabet.len());
    let mut out = String::with_capacity(n);
    while out.chars().count() < n {
        for b in crate::random_bytes(n * 2)? {
            if (b as usize) < limit {
                out.push(alphabet[b as usize % alphabet.len()]);
                if out.chars().count() == n {
                    break;
                }
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use omniform_core::InstanceAddress;

    fn make(planned: Value) -> Result<Value, ProviderError> {
        create(&CreateRequest {
            address: InstanceAddress::new(TYPE, "p", None),
            type_name: TYPE.into(),
            planned,
        })
    }

    #[test]
    fn honours_length_and_classes() {
        let state = make(Value::map([
            ("length", Value::from(40)),
            ("special", Value::from(false)),
            ("upper", Value::from(false)),
        ]))
        .unwrap();
        let result = state.get_path(&AttrPath::attr("result")).unwrap();
        assert!(result.is_sensitive());
        let s = result.as_str().unwrap();
        assert_eq!(s.chars().count(), 40);
        assert!(
            s.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit()),
            "{s}"
        );
    }

    #[test]
    fn refuses_no_classes() {
        let off = Value::from(false);
        let err = make(Value::map([
            ("length", Value::from(8)),
            ("special", off.clone()),
            ("upper", off.clone()),
            ("lower", off.clone()),
            ("numeric", off),
        ]))
        .unwrap_err();
        assert!(err.message.contains("every character class is turned off"));
    }
}
