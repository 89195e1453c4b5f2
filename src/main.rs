//! `rowbench`: serves the web app on the configured address until Ctrl-C or SIGTERM.

use anyhow::Context;
use rowbench::{Application, Config, telemetry};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    telemetry::init();
    let config = Config::from_env().context("reading the configuration from the environment")?;
    let app = Application::build(config)
        .await
        .context("starting Rowbench")?;
    tracing::info!("Rowbench is listening on http://{}", app.address());
    app.run_until_stopped().await.context("serving HTTP")?;
    Ok(())
}
