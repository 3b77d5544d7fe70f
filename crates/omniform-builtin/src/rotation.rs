//! Rotation without a Lambda: a generated value with `rotate_after_days` is replaced once it
//! is older than that, and the new value flows to whatever references it.

use omniform_core::{ActionReason, AttrPath, Value};
use omniform_provider::{PlanRequest, PlanResponse};

pub const ATTRIBUTE: &str = "rotate_after_days";

pub fn plan(req: PlanRequest<'_>) -> PlanResponse {
    let days = req
        .proposed
        .get_path(&AttrPath::attr(ATTRIBUTE))
        .and_then(Value::as_i64);
    let (prior, created_at, now) = (req.prior, req.created_at, req.now);
    let mut resp = PlanResponse::accept(req.proposed);
    if let (Some(_), Some(created), Some(days)) = (prior, created_at, days) {
        let age = (now - created).whole_days();
        if age >= days {
            resp.requires_replace.push(AttrPath::attr(ATTRIBUTE));
            resp.reason = Some((
                ActionReason::ReplaceBecauseRotationDue,
                format!("rotation due: created {age} days ago ({ATTRIBUTE} = {days})"),
            ));
        }
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::{Duration, OffsetDateTime};

    #[test]
    fn replaces_when_older_than_the_period() {
        let prior = Value::map([(ATTRIBUTE, Value::from(90))]);
        let now = OffsetDateTime::UNIX_EPOCH + Duration::days(1000);
        let req = |age: i64| PlanRequest {
            type_name: "random_id",
            prior: Some(&prior),
            proposed: prior.clone(),
            created_at: Some(now - Duration::days(age)),
            now,
        };
        assert!(plan(req(89)).requires_replace.is_empty());
        let resp = plan(req(91));
        assert_eq!(resp.requires_replace, vec![AttrPath::attr(ATTRIBUTE)]);
        assert_eq!(
            resp.reason.unwrap().1,
            "rotation due: created 91 days ago (rotate_after_days = 90)"
        );
    }
}
