//! Who is asking: every use case takes one, so the checks of team mode have one place to go.

/// The owner of every draft and batch in local mode, where one person uses the app without login.
pub const LOCAL_USER: &str = "local";

/// The person a use case runs for. It decides whose datasets, drafts and batches a call may see
/// and change; a batch that is someone else's reads as not found, never as forbidden, so that
/// its id tells nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    owner: String,
}

impl Actor {
    /// The one user of a server in local mode.
    pub fn local() -> Self {
        Actor {
            owner: LOCAL_USER.to_string(),
        }
    }

    /// The owner name the store files this actor's data under.
    pub fn owner(&self) -> &str {
        &self.owner
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_local_actor_owns_what_local_mode_stored() {
        assert_eq!(Actor::local().owner(), LOCAL_USER);
    }
}
