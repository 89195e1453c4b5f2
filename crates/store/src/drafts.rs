//! Drafts: the wizard's saved working state, one row per draft, owned by a user.

use serde::{Deserialize, Serialize};
use sqlx::FromRow;

use crate::database::{Backend, on_pool};
use crate::{Database, StoreError, Timestamp};

/// A wizard draft as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Draft {
    pub id: i64,
    pub owner: String,
    /// The wizard step the user was last on (a slug such as `upload`).
    pub step: String,
    /// Everything the wizard steps have saved so far, as JSON.
    pub state: serde_json::Value,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

#[derive(FromRow)]
struct DraftRecord {
    id: i64,
    owner: String,
    step: String,
    state: String,
    created_at: Timestamp,
    updated_at: Timestamp,
}

impl TryFrom<DraftRecord> for Draft {
    type Error = StoreError;

    fn try_from(r: DraftRecord) -> Result<Self, StoreError> {
        let state = serde_json::from_str(&r.state).map_err(|e| StoreError::Corrupt {
            what: "draft state",
            reason: e.to_string(),
        })?;
        Ok(Draft {
            id: r.id,
            owner: r.owner,
            step: r.step,
            state,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

/// Creates an empty draft for `owner`, starting at the first step.
#[tracing::instrument(skip_all)]
pub async fn create(db: &Database, owner: &str) -> Result<Draft, StoreError> {
    let now = Timestamp::now();
    let record: DraftRecord = on_pool!(db, |pool, _dialect| {
        sqlx::query_as(
            "INSERT INTO drafts (owner, created_at, updated_at) VALUES ($1, $2, $2) \
             RETURNING id, owner, step, state, created_at, updated_at",
        )
        .bind(owner)
        .bind(now)
        .fetch_one(pool)
        .await?
    });
    record.try_into()
}

/// The draft `id` if it exists and belongs to `owner`; anyone else's draft is simply not found.
#[tracing::instrument(skip_all, fields(draft_id = id))]
pub async fn find(db: &Database, owner: &str, id: i64) -> Result<Option<Draft>, StoreError> {
    let record: Option<DraftRecord> = on_pool!(db, |pool, _dialect| {
        sqlx::query_as(
            "SELECT id, owner, step, state, created_at, updated_at FROM drafts \
             WHERE id = $1 AND owner = $2",
        )
        .bind(id)
        .bind(owner)
        .fetch_optional(pool)
        .await?
    });
    record.map(Draft::try_from).transpose()
}

/// Records the step the user is on; returns false if the draft is not `owner`'s or is gone.
#[tracing::instrument(skip_all, fields(draft_id = id))]
pub async fn set_step(db: &Database, owner: &str, id: i64, step: &str) -> Result<bool, StoreError> {
    let done = on_pool!(db, |pool, _dialect| {
        sqlx::query("UPDATE drafts SET step = $1, updated_at = $2 WHERE id = $3 AND owner = $4")
            .bind(step)
            .bind(Timestamp::now())
            .bind(id)
            .bind(owner)
            .execute(pool)
            .await?
            .rows_affected()
    });
    Ok(done == 1)
}

/// Sets one top-level field of the draft's state to `value`, leaving the rest as it is; returns
/// false if the draft is not `owner`'s or is gone.
async fn set_state_field(
    db: &Database,
    owner: &str,
    id: i64,
    field: &'static str,
    value: &serde_json::Value,
) -> Result<bool, StoreError> {
    match db.backend() {
        Backend::Sqlite(parts) => {
            let done = sqlx::query(
                "UPDATE drafts SET state = json_set(state, '$.' || $1, json($2)), updated_at = $3 \
                 WHERE id = $4 AND owner = $5",
            )
            .bind(field)
            .bind(value.to_string())
            .bind(Timestamp::now())
            .bind(id)
            .bind(owner)
            .execute(&parts.pool)
            .await?;
            Ok(done.rows_affected() == 1)
        }
        // jsonb_set would sort the keys of every object in the state (jsonb keeps no order), and
        // the order of a schema's fields is the user's: the row is locked, changed here, written.
        Backend::Postgres(pool) => {
            let mut tx = pool.begin().await?;
            let state: Option<String> = sqlx::query_scalar(
                "SELECT state FROM drafts WHERE id = $1 AND owner = $2 FOR UPDATE",
            )
            .bind(id)
            .bind(owner)
            .fetch_optional(&mut *tx)
            .await?;
            let Some(state) = state else {
                return Ok(false);
            };
            let mut state: serde_json::Value =
                serde_json::from_str(&state).map_err(|e| StoreError::Corrupt {
                    what: "draft state",
                    reason: e.to_string(),
                })?;
            if !state.is_object() {
                state = serde_json::json!({});
            }
            state[field] = value.clone();
            sqlx::query("UPDATE drafts SET state = $1, updated_at = $2 WHERE id = $3")
                .bind(state.to_string())
                .bind(Timestamp::now())
                .bind(id)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok(true)
        }
    }
}

/// Links the draft to an uploaded dataset (kept in the draft's state as `dataset_id`).
#[tracing::instrument(skip_all, fields(draft_id = id, dataset_id))]
pub async fn set_dataset(
    db: &Database,
    owner: &str,
    id: i64,
    dataset_id: i64,
) -> Result<bool, StoreError> {
    set_state_field(db, owner, id, "dataset_id", &serde_json::json!(dataset_id)).await
}

/// Stores the draft's column mapping (any JSON; the app checks it) under `mapping` in its state.
#[tracing::instrument(skip_all, fields(draft_id = id))]
pub async fn set_mapping(
    db: &Database,
    owner: &str,
    id: i64,
    mapping: &serde_json::Value,
) -> Result<bool, StoreError> {
    set_state_field(db, owner, id, "mapping", mapping).await
}

/// A part of the draft that one wizard step owns and saves on its own; two tabs editing different
/// steps never overwrite each other, and within one step the last save wins.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DraftPart {
    Prompt,
    Schema,
    Settings,
}

impl DraftPart {
    fn field(self) -> &'static str {
        match self {
            DraftPart::Prompt => "prompt",
            DraftPart::Schema => "schema",
            DraftPart::Settings => "settings",
        }
    }
}

/// Stores one step's part of the draft (any JSON; the app checks it).
#[tracing::instrument(skip_all, fields(draft_id = id, part = ?part))]
pub async fn set_part(
    db: &Database,
    owner: &str,
    id: i64,
    part: DraftPart,
    value: &serde_json::Value,
) -> Result<bool, StoreError> {
    set_state_field(db, owner, id, part.field(), value).await
}

/// Empties the draft and sends it back to the first step; false if it is not `owner`'s.
#[tracing::instrument(skip_all, fields(draft_id = id))]
pub async fn reset(db: &Database, owner: &str, id: i64) -> Result<bool, StoreError> {
    let done = on_pool!(db, |pool, _dialect| {
        sqlx::query(
            "UPDATE drafts SET state = '{}', step = 'upload', updated_at = $1 \
             WHERE id = $2 AND owner = $3",
        )
        .bind(Timestamp::now())
        .bind(id)
        .bind(owner)
        .execute(pool)
        .await?
        .rows_affected()
    });
    Ok(done == 1)
}

/// Replaces the draft's whole state (a batch cloned into it); false if it is not `owner`'s.
#[tracing::instrument(skip_all, fields(draft_id = id))]
pub async fn replace_state(
    db: &Database,
    owner: &str,
    id: i64,
    state: &serde_json::Value,
) -> Result<bool, StoreError> {
    let done = on_pool!(db, |pool, _dialect| {
        sqlx::query(
            "UPDATE drafts SET state = $1, step = 'review', updated_at = $2 \
             WHERE id = $3 AND owner = $4",
        )
        .bind(state.to_string())
        .bind(Timestamp::now())
        .bind(id)
        .bind(owner)
        .execute(pool)
        .await?
        .rows_affected()
    });
    Ok(done == 1)
}

impl Draft {
    /// One step's saved part, if that step saved anything yet.
    pub fn part(&self, part: DraftPart) -> Option<&serde_json::Value> {
        self.state.get(part.field())
    }

    /// The column mapping saved in the draft, if any.
    pub fn mapping(&self) -> Option<&serde_json::Value> {
        self.state.get("mapping")
    }

    /// The dataset the draft works on, once one was uploaded.
    pub fn dataset_id(&self) -> Option<i64> {
        self.state
            .get("dataset_id")
            .and_then(serde_json::Value::as_i64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::database::tests::fresh_database;

    #[tokio::test]
    async fn a_new_draft_starts_empty_on_the_upload_step() {
        let (db, _dir) = fresh_database().await;
        let draft = create(&db, "local").await.expect("create");
        assert_eq!(draft.step, "upload");
        assert_eq!(draft.state, serde_json::json!({}));
        assert_eq!(draft.created_at, draft.updated_at);
    }

    #[tokio::test]
    async fn a_draft_is_found_by_its_owner_and_by_nobody_else() {
        let (db, _dir) = fresh_database().await;
        let draft = create(&db, "alice").await.expect("create");
        let found = find(&db, "alice", draft.id).await.expect("query");
        assert_eq!(found.as_ref(), Some(&draft));
        assert_eq!(find(&db, "bob", draft.id).await.expect("query"), None);
    }

    #[tokio::test]
    async fn a_draft_remembers_its_dataset_and_keeps_the_rest_of_its_state() {
        let (db, _dir) = fresh_database().await;
        let draft = create(&db, "alice").await.expect("create");
        assert_eq!(draft.dataset_id(), None);
        assert!(!set_dataset(&db, "bob", draft.id, 7).await.expect("query"));
        assert!(set_dataset(&db, "alice", draft.id, 7).await.expect("query"));
        assert!(set_dataset(&db, "alice", draft.id, 9).await.expect("query"));
        let found = find(&db, "alice", draft.id)
            .await
            .expect("query")
            .expect("exists");
        assert_eq!(found.dataset_id(), Some(9));
        assert_eq!(found.state, serde_json::json!({ "dataset_id": 9 }));
    }

    #[tokio::test]
    async fn a_saved_mapping_sits_beside_the_dataset_in_the_state() {
        let (db, _dir) = fresh_database().await;
        let draft = create(&db, "alice").await.expect("create");
        set_dataset(&db, "alice", draft.id, 3).await.expect("query");
        let mapping = serde_json::json!({ "columns": [{ "name": "a", "role": "include" }] });
        assert!(
            set_mapping(&db, "alice", draft.id, &mapping)
                .await
                .expect("query")
        );
        let found = find(&db, "alice", draft.id)
            .await
            .expect("query")
            .expect("exists");
        assert_eq!(found.mapping(), Some(&mapping));
        assert_eq!(found.dataset_id(), Some(3));
    }

    #[tokio::test]
    async fn each_step_saves_its_own_part_and_a_reset_empties_them_all() {
        let (db, _dir) = fresh_database().await;
        let draft = create(&db, "alice").await.expect("create");
        set_dataset(&db, "alice", draft.id, 3).await.expect("query");
        let prompt = serde_json::json!({ "system": "s", "user": "u" });
        let schema = serde_json::json!({ "fields": [] });
        assert!(
            set_part(&db, "alice", draft.id, DraftPart::Prompt, &prompt)
                .await
                .expect("query")
        );
        assert!(
            set_part(&db, "alice", draft.id, DraftPart::Schema, &schema)
                .await
                .expect("query")
        );
        assert!(
            !set_part(&db, "bob", draft.id, DraftPart::Schema, &prompt)
                .await
                .expect("query")
        );
        let found = find(&db, "alice", draft.id)
            .await
            .expect("query")
            .expect("exists");
        assert_eq!(found.part(DraftPart::Prompt), Some(&prompt));
        assert_eq!(found.part(DraftPart::Schema), Some(&schema));
        assert_eq!(found.part(DraftPart::Settings), None);
        assert_eq!(found.dataset_id(), Some(3));

        assert!(!reset(&db, "bob", draft.id).await.expect("query"));
        set_step(&db, "alice", draft.id, "review")
            .await
            .expect("query");
        assert!(reset(&db, "alice", draft.id).await.expect("query"));
        let found = find(&db, "alice", draft.id)
            .await
            .expect("query")
            .expect("exists");
        assert_eq!(found.state, serde_json::json!({}));
        assert_eq!(found.step, "upload");
    }

    #[tokio::test]
    async fn the_step_is_saved_only_for_the_owner() {
        let (db, _dir) = fresh_database().await;
        let draft = create(&db, "alice").await.expect("create");
        assert!(
            !set_step(&db, "bob", draft.id, "prompt")
                .await
                .expect("query")
        );
        assert!(
            set_step(&db, "alice", draft.id, "prompt")
                .await
                .expect("query")
        );
        let found = find(&db, "alice", draft.id)
            .await
            .expect("query")
            .expect("exists");
        assert_eq!(found.step, "prompt");
        assert!(found.updated_at >= draft.updated_at);
    }
}
