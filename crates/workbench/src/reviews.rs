//! Reviewing a row's answer: a person accepts it, fixes it (the fix checked against the batch's
//! schema first) or rejects it with a reason. The model's answer is never replaced: both are
//! kept, with who reviewed and when, and a row the model answered again after its review says
//! so.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// What a reviewer decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Decision {
    /// The model's answer is right.
    Accept,
    /// The model's answer is wrong, and nothing replaces it.
    Reject,
    /// The reviewer's answer replaces it in the export.
    Fix,
}

impl Decision {
    pub fn name(self) -> &'static str {
        match self {
            Decision::Accept => "accept",
            Decision::Reject => "reject",
            Decision::Fix => "fix",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [Decision::Accept, Decision::Reject, Decision::Fix]
            .into_iter()
            .find(|d| d.name() == text)
    }
}

/// A review as `POST /api/batches/{id}/rows/{row}/review` takes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReviewInput {
    pub decision: Decision,
    /// The whole answer, for a fix.
    #[serde(default)]
    pub answer: Option<Value>,
    #[serde(default)]
    pub reason: Option<String>,
}

/// A row's review as the row's answer carries it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReviewView {
    pub decision: Decision,
    /// The answer vouched for: the fix, or the model's answer accepted; `None` when rejected.
    pub answer: Option<Value>,
    pub reason: Option<String>,
    /// An email, or `local`.
    pub reviewed_by: String,
    /// For people (UTC).
    pub reviewed_at: String,
    pub reviewed_at_ms: i64,
    /// The model answered the row again after this review.
    pub model_changed: bool,
}

/// The longest reason kept.
pub const MAX_REASON_CHARS: usize = 2000;

#[cfg(feature = "server")]
pub(crate) use server::{Verdict, judge};

#[cfg(feature = "server")]
mod server {
    use rowbench_schema::AnswerValidator;
    use rowbench_store::queue::{RowDetail, RowStatus};
    use rowbench_store::reviews::{self as stored, NewReview};
    use serde_json::json;

    use super::*;
    use crate::actor::Actor;
    use crate::batch_page::RowAnswer;
    use crate::error::{Error, Result};
    use crate::workbench::Workbench;

    /// A review [`judge`] found can be stored.
    #[derive(Debug, Clone, PartialEq)]
    pub(crate) struct Verdict {
        pub decision: Decision,
        pub vouched: Option<Value>,
        pub reason: Option<String>,
    }

    /// The field an answer issue is about: the first segment of its JSON pointer (`/sentiment`),
    /// or the answer itself.
    fn field_of(path: &str) -> String {
        path.trim_start_matches('/')
            .split('/')
            .next()
            .filter(|s| !s.is_empty())
            .unwrap_or("answer")
            .to_string()
    }

    /// What a review decides for row `row`: only a finished row is reviewed; accepting needs a
    /// model answer; a fix must pass the batch's schema (`validator`); a fix that leaves the
    /// model's answer as it was is an acceptance. The one home of these rules, for the API, the
    /// pages and the review sheet alike.
    pub(crate) fn judge(
        row: i64,
        detail: &RowDetail,
        validator: &AnswerValidator,
        input: ReviewInput,
    ) -> Result<Verdict> {
        if !matches!(detail.status, RowStatus::Succeeded | RowStatus::Failed) {
            return Err(Error::conflict(
                "not_finished",
                format!(
                    "Row {} has not finished yet; review it once it has an answer or an error.",
                    row.saturating_add(1)
                ),
            )
            .with_details(json!({ "row_index": row })));
        }
        let reason = input
            .reason
            .as_deref()
            .map(str::trim)
            .filter(|r| !r.is_empty())
            .map(str::to_string);
        if reason
            .as_deref()
            .is_some_and(|r| r.chars().count() > MAX_REASON_CHARS)
        {
            return Err(Error::invalid(
                "invalid_field",
                format!("A reason may have at most {MAX_REASON_CHARS} characters."),
            )
            .with_details(json!({ "field": "reason" })));
        }
        // A "fix" that leaves the model's answer as it was is an acceptance (the grid's
        // editor and the digit keys send the whole answer either way).
        let decision = match (&input.decision, &input.answer, &detail.result) {
            (Decision::Fix, Some(fix), Some(model)) if fix == model => Decision::Accept,
            (decision, _, _) => *decision,
        };
        let vouched =
            match decision {
                Decision::Accept => Some(detail.result.clone().ok_or_else(|| {
                    Error::conflict(
                        "no_answer",
                        "This row has no answer from the model to accept; fix it or reject it.",
                    )
                })?),
                Decision::Reject => None,
                Decision::Fix => {
                    let fix = input.answer.ok_or_else(|| {
                        Error::invalid("invalid_answer", "A fix needs the whole answer.")
                            .with_details(json!({ "field": "answer" }))
                    })?;
                    if let Err(issues) = validator.validate(&fix) {
                        let first = &issues[0];
                        let field = field_of(&first.path);
                        return Err(Error::invalid(
                        "invalid_answer",
                        format!("The fix is not valid for field \"{field}\": {}", first.message),
                    )
                    .with_details(json!({
                        "field": field,
                        "issues": issues
                            .iter()
                            .map(|i| json!({ "field": field_of(&i.path), "message": i.message }))
                            .collect::<Vec<_>>(),
                    })));
                    }
                    Some(fix)
                }
            };
        Ok(Verdict {
            decision,
            vouched,
            reason,
        })
    }

    impl Workbench {
        /// Reviews row `row` of batch `id` (editors and admins): answers the row as
        /// [`Workbench::row`] does, with its review. Only a finished row is reviewed; accepting
        /// needs a model answer; a fix must pass the batch's schema.
        pub async fn review_row(
            &self,
            actor: &Actor,
            id: i64,
            row: i64,
            input: ReviewInput,
        ) -> Result<RowAnswer> {
            actor.must_edit("review answers")?;
            let (answer, config) = self.row(actor, id, row).await?;
            let validator = AnswerValidator::new(&config.json_schema)
                .map_err(|e| Error::internal("compiling the batch's schema", &e))?;
            let verdict = judge(row, &answer.detail, &validator, input)?;
            self.keep_review(actor, id, row, answer.detail.attempt, &verdict)
                .await?;
            Ok(self.row(actor, id, row).await?.0)
        }

        /// Stores a verdict [`judge`] reached for row `row` (at attempt `attempt`).
        pub(crate) async fn keep_review(
            &self,
            actor: &Actor,
            id: i64,
            row: i64,
            attempt: i64,
            verdict: &Verdict,
        ) -> Result<()> {
            let Verdict {
                decision,
                vouched,
                reason,
            } = verdict;
            let reason = reason.as_deref();
            let decision = *decision;
            let text = vouched
                .as_ref()
                .map(|v| {
                    serde_json::to_string(v).map_err(|e| Error::internal("saving a review", &e))
                })
                .transpose()?;
            let name = self.actor_name(actor).await;
            let saved = stored::set_review(
                &self.db,
                actor.owner(),
                id,
                row,
                NewReview {
                    decision: decision.name(),
                    answer: text.as_deref(),
                    reason,
                    reviewer_id: actor.team_member().map(|m| m.user_id),
                    reviewed_by: &name,
                    attempt,
                },
            )
            .await?;
            if !saved {
                return Err(Error::not_found(format!(
                    "Row {} of batch {id}",
                    row.saturating_add(1)
                )));
            }
            Ok(())
        }

        /// The review of row `row` of batch `id`, which the caller has already found is the
        /// actor's; `attempt` is the row's attempt now.
        pub(crate) async fn review_of(
            &self,
            id: i64,
            row: i64,
            attempt: i64,
        ) -> Result<Option<ReviewView>> {
            let Some(review) = stored::review(&self.db, id, row).await? else {
                return Ok(None);
            };
            let decision = Decision::parse(&review.decision).ok_or_else(|| {
                Error::internal(
                    "reading a review",
                    &format!("decision {:?}", review.decision),
                )
            })?;
            let answer = review
                .answer
                .as_deref()
                .map(serde_json::from_str)
                .transpose()
                .map_err(|e| Error::internal("reading a review", &e))?;
            Ok(Some(ReviewView {
                decision,
                answer,
                reason: review.reason,
                reviewed_by: review.reviewed_by,
                reviewed_at: crate::display_time(review.reviewed_at),
                reviewed_at_ms: review.reviewed_at.as_millis(),
                model_changed: attempt > review.attempt,
            }))
        }
    }

    #[cfg(test)]
    mod tests {
        use super::field_of;

        #[test]
        fn an_issue_names_the_field_its_pointer_starts_with() {
            assert_eq!(field_of("/sentiment"), "sentiment");
            assert_eq!(field_of("/tags/2"), "tags");
            assert_eq!(field_of(""), "answer");
        }
    }
}
