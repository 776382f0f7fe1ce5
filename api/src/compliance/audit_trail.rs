//! An audit-trail export: the hash-chained events on one resource (and everything under it)
//! over a time range, with each event's hash and the chain's verification when it was made.

use verity_store::{AuditEvent, AuditVerification};

use super::document::{Section, utc};

/// Most events one export holds; a longer range is refused (narrow it).
pub const MAX_EVENTS: usize = 5_000;

/// What an export covers.
pub struct AuditRange {
    /// The resource, e.g. `project/p/model/churn`.
    pub resource: String,
    /// From (ms, inclusive).
    pub since: Option<i64>,
    /// Until (ms, exclusive).
    pub until: Option<i64>,
}

impl AuditRange {
    /// `audit/{resource}`.
    pub fn subject(&self) -> String {
        format!("audit/{}", self.resource)
    }
}

/// The export's sections.
pub fn sections(
    range: &AuditRange,
    events: &[AuditEvent],
    chain: &AuditVerification,
) -> Vec<Section> {
    let bound = |t: Option<i64>, open: &str| t.map_or(open.to_owned(), utc);
    let rows: Vec<Vec<String>> = events
        .iter()
        .map(|e| {
            vec![
                e.seq.to_string(),
                utc(e.at),
                e.actor.clone(),
                e.action.clone(),
                e.resource.clone(),
                e.outcome.clone(),
                e.details.clone(),
                e.hash.clone(),
            ]
        })
        .collect();
    vec![
        Section::new("scope", "Scope").facts([
            ("resource", "Resource (and everything under it)", range.resource.clone()),
            ("since", "From", bound(range.since, "the first event")),
            ("until", "Until", bound(range.until, "the time of export")),
            ("events", "Events", events.len().to_string()),
            (
                "chain",
                "The whole chain verifies",
                if chain.is_intact() {
                    format!("yes ({} events, head #{})", chain.checked, chain.head_seq)
                } else {
                    format!(
                        "NO: first broken at #{} ({})",
                        chain.first_broken.unwrap_or_default(),
                        chain.problem.clone().unwrap_or_default()
                    )
                },
            ),
        ]),
        Section::new("events", "Events").text(
            "Each event's hash is sha256(previous hash, newline, the canonical event); GET /api/v1/audit/verify recomputes the chain.",
        ).table(
            None,
            &["Seq", "When", "Actor", "Action", "Resource", "Outcome", "Details", "SHA-256"],
            rows,
            "No event on this resource in this range.",
        ),
    ]
}
