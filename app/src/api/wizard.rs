//! The wizard's draft for this browser session: found or created, and the step it is on.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;
use crate::wizard_step::WizardStep;

/// What the wizard shows of its draft.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DraftView {
    pub id: i64,
    pub step: WizardStep,
    pub created: String,
    pub updated: String,
}

/// The draft of this session, created on first use.
#[server(prefix = "/rpc", endpoint = "current_draft")]
pub async fn current_draft() -> Result<DraftView, AppError> {
    let workbench = crate::server::workbench()?;
    let draft = ssr::session_draft(&workbench).await?;
    Ok(ssr::view(&draft))
}

/// Remembers the step the user is on, so coming back to the wizard resumes there.
#[server(prefix = "/rpc", endpoint = "save_step")]
pub async fn save_step(step: WizardStep) -> Result<(), AppError> {
    let workbench = crate::server::workbench()?;
    let draft = ssr::session_draft(&workbench).await?;
    Ok(workbench
        .save_step(&crate::server::actor()?, &draft, step.slug())
        .await?)
}

#[cfg(feature = "ssr")]
pub mod ssr {
    //! Which draft a browser session works on: the session remembers its id.

    use rowbench_workbench::Workbench;
    use tower_sessions::Session;

    use super::DraftView;
    use crate::error::AppError;
    use crate::wizard_step::WizardStep;

    pub use rowbench_store::drafts::Draft;

    /// The session key holding the id of the session's draft in the workspace the actor acts
    /// in (one per workspace, so switching back finds the draft left there).
    fn draft_key(actor: &rowbench_workbench::Actor) -> String {
        match actor.owner() {
            crate::server::LOCAL_USER => "draft_id".to_string(),
            owner => format!("draft_id:{owner}"),
        }
    }

    /// Held while a session's first draft is created: several resources of one page ask for the
    /// draft at once, and all of them must get the same one.
    static CREATING: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

    /// The session's draft if it still exists and is the actor's; otherwise a new one,
    /// remembered in the session.
    pub async fn session_draft(workbench: &Workbench) -> Result<Draft, AppError> {
        let session = leptos_axum::extract::<Session>().await?;
        if let Some(draft) = existing(workbench, &session).await? {
            return Ok(draft);
        }
        let _creating = CREATING.lock().await;
        if let Some(draft) = existing(workbench, &session).await? {
            return Ok(draft);
        }
        let actor = crate::server::actor()?;
        let draft = workbench.new_draft(&actor).await?;
        session.insert(&draft_key(&actor), draft.id).await?;
        Ok(draft)
    }

    async fn existing(workbench: &Workbench, session: &Session) -> Result<Option<Draft>, AppError> {
        let actor = crate::server::actor()?;
        match session.get::<i64>(&draft_key(&actor)).await? {
            Some(id) => Ok(workbench.find_draft(&actor, id).await?),
            None => Ok(None),
        }
    }

    pub fn view(draft: &Draft) -> DraftView {
        DraftView {
            id: draft.id,
            // A step name written by an older version falls back to the first step.
            step: WizardStep::from_slug(&draft.step).unwrap_or(WizardStep::Upload),
            created: rowbench_workbench::display_time(draft.created_at),
            updated: rowbench_workbench::display_time(draft.updated_at),
        }
    }
}
