//! `rowbench`: serves the web app on the configured address until Ctrl-C or SIGTERM, or runs
//! one team-mode command (`rowbench user add`, `rowbench user password`, `rowbench token create`)
//! against the database the server uses, while it runs or not.

use anyhow::Context;
use clap::{Parser, Subcommand};
use rowbench::{Application, Config, cli, telemetry};

#[derive(Debug, Parser)]
#[command(
    name = "rowbench",
    version,
    about = "Runs an LLM over every row of a spreadsheet. Without a command: serve the web app.",
    after_help = "Configuration comes from the environment (DATABASE_URL, ROWBENCH_DATA_DIR, \
                  ROWBENCH_MODE…); see the README."
)]
struct Args {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the web app (the default).
    Serve,
    /// Team mode's accounts.
    #[command(subcommand)]
    User(UserCommand),
    /// API tokens for the JSON API.
    #[command(subcommand)]
    Token(TokenCommand),
}

#[derive(Debug, Subcommand)]
enum UserCommand {
    /// Make an account. The password is read from stdin when it is not a terminal, else asked
    /// for twice without echo; it is never an argument.
    Add {
        email: String,
        /// A server admin: sees every account and may disable one (and is admin of the
        /// workspace by default).
        #[arg(long)]
        admin: bool,
        /// The workspace to put the account in, made if missing (default: "Default").
        #[arg(long)]
        workspace: Option<String>,
        /// The role in that workspace (default: admin with --admin, else editor).
        #[arg(long, value_parser = ["viewer", "editor", "admin"])]
        role: Option<String>,
    },
    /// Set a new password for an account (someone who forgot theirs), read as for `add`; ends
    /// a lock from wrong passwords.
    Password { email: String },
}

#[derive(Debug, Subcommand)]
enum TokenCommand {
    /// Make an API token for an account; prints the token alone (it is shown only this once).
    Create {
        email: String,
        token_name: String,
        /// The workspace the token acts in (default: the account's first).
        #[arg(long)]
        workspace: Option<String>,
    },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let config = Config::from_env().context("reading the configuration from the environment")?;
    match args.command {
        None | Some(Command::Serve) => {
            telemetry::init();
            let app = Application::build(config)
                .await
                .context("starting Rowbench")?;
            tracing::info!("Rowbench is listening on http://{}", app.address());
            app.run_until_stopped().await.context("serving HTTP")?;
        }
        Some(Command::User(UserCommand::Add {
            email,
            admin,
            workspace,
            role,
        })) => {
            let password = cli::read_password()?;
            let made = cli::add_user(&config, &email, &password, admin, workspace, role).await?;
            println!(
                "Made the account {} ({}) in workspace \"{}\".",
                made.user.email,
                made.role.name(),
                made.workspace
            );
        }
        Some(Command::User(UserCommand::Password { email })) => {
            let password = cli::read_password()?;
            cli::set_password(&config, &email, &password).await?;
            println!("Set a new password for {}.", email.trim());
        }
        Some(Command::Token(TokenCommand::Create {
            email,
            token_name,
            workspace,
        })) => {
            let token = cli::create_token(&config, &email, &token_name, workspace).await?;
            println!("{token}");
        }
    }
    Ok(())
}
