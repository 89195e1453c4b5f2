//! The command line's team-mode commands, on the database the server's configuration names.
//! They open it as the server does (migrating it first, so they work on a fresh data dir), and
//! share it with a running server: each command is a few short writes.

use std::io::{BufRead, IsTerminal};
use std::sync::Arc;

use anyhow::{Context, bail};
use rowbench_store::Database;
use rowbench_store::chart_cache::ChartCache;
use rowbench_workbench::accounts::NewAccount;
use rowbench_workbench::actor::Role;
use rowbench_workbench::{Error, Workbench};

use crate::Config;

async fn open(config: &Config) -> anyhow::Result<Workbench> {
    if config.database_in_data_dir() {
        std::fs::create_dir_all(&config.data_dir).with_context(|| {
            format!("creating the data directory {}", config.data_dir.display())
        })?;
    }
    let db = Database::connect(&config.database_url)
        .await
        .context("opening the database")?;
    db.migrate()
        .await
        .context("applying the database migrations")?;
    Ok(Workbench::new(
        db,
        Arc::new(config.catalog.clone()),
        Arc::new(tokio::sync::Notify::new()),
        Arc::new(ChartCache::default()),
    ))
}

/// A use case's refusal as the command line says it.
fn said(err: Error) -> anyhow::Error {
    anyhow::anyhow!(err.to_string())
}

/// The password: the first line of stdin when it is not a terminal (`echo … | rowbench user
/// add`), else typed twice without echo.
pub fn read_password() -> anyhow::Result<String> {
    let stdin = std::io::stdin();
    if !stdin.is_terminal() {
        let mut line = String::new();
        stdin
            .lock()
            .read_line(&mut line)
            .context("reading the password from stdin")?;
        let password = line.trim_end_matches(['\n', '\r']).to_string();
        if password.is_empty() {
            bail!("no password on stdin: send it as the first line");
        }
        return Ok(password);
    }
    let first = rpassword::prompt_password("Password: ").context("reading the password")?;
    let again = rpassword::prompt_password("Password again: ").context("reading the password")?;
    if first != again {
        bail!("the two passwords differ; nothing was made");
    }
    Ok(first)
}

/// `rowbench user add`.
pub async fn add_user(
    config: &Config,
    email: &str,
    password: &str,
    admin: bool,
    workspace: Option<String>,
    role: Option<String>,
) -> anyhow::Result<NewAccount> {
    let role = match role.as_deref() {
        Some(name) => Role::parse(name)
            .with_context(|| format!("--role must be viewer, editor or admin, not {name:?}"))?,
        None if admin => Role::Admin,
        None => Role::Editor,
    };
    let workbench = open(config).await?;
    let made = workbench
        .add_user(email, password, admin, workspace.as_deref(), role)
        .await
        .map_err(said)?;
    workbench.db().close().await;
    Ok(made)
}

/// `rowbench token create`: the new token.
pub async fn create_token(
    config: &Config,
    email: &str,
    name: &str,
    workspace: Option<String>,
) -> anyhow::Result<String> {
    let workbench = open(config).await?;
    let token = workbench
        .create_token_for(email, name, workspace.as_deref())
        .await
        .map_err(said)?;
    workbench.db().close().await;
    Ok(token)
}

/// `rowbench user password`.
pub async fn set_password(config: &Config, email: &str, password: &str) -> anyhow::Result<()> {
    let workbench = open(config).await?;
    workbench
        .reset_password(email, password)
        .await
        .map_err(said)?;
    workbench.db().close().await;
    Ok(())
}
