//! Rowbench's use cases, in one place between the pages and the JSON API.
//!
//! Every rule about a batch lives here once: starting one from a draft or a recipe, what each
//! action (pause, resume, cancel, retry failed rows, retry a row, run the rows a trial left out,
//! delete, copy into a draft) does and when it does not apply, what the batch page reads (facts,
//! queue table, drill-down, charts), the wizard's draft steps and what blocks the start, and
//! setting up an export. The Leptos server functions and the axum JSON routes are thin
//! adapters: they parse the request, call one method of [`Workbench`], and map its answer or
//! its [`Error`] to their own shape.
//!
//! Every call takes an [`Actor`]: whose data it may see. Local mode has one
//! ([`Actor::local`]); team mode adds its checks here, and both faces get them.
//!
//! Without the `server` feature the crate is only the model types the pages render
//! ([`batches::BatchView`], [`batch_page::QueuePage`]…), and compiles to wasm.
//!
//! ```no_run
//! # #[cfg(feature = "server")]
//! # async fn example(workbench: rowbench_workbench::Workbench) -> rowbench_workbench::error::Result<()> {
//! use rowbench_workbench::batches::BatchAction;
//! use rowbench_workbench::{Actor, Error};
//!
//! let me = Actor::local();
//! let batch = workbench.batch(&me, 7).await?;
//! println!("{} is {:?}", batch.summary.name, batch.summary.status);
//! match workbench.control(&me, 7, BatchAction::Pause).await {
//!     Ok(()) => println!("paused"),
//!     // Not running any more: the message says what state it is in.
//!     Err(Error::Conflict { message, .. }) => println!("{message}"),
//!     Err(other) => return Err(other),
//! }
//! # Ok(())
//! # }
//! ```

pub mod accounts;
pub mod accuracy;
pub mod actor;
pub mod administration;
pub mod agreement;
pub mod audit;
pub mod batch_page;
pub mod batches;
pub mod comparisons;
pub mod costs;
pub mod datasets;
pub mod error;
pub mod export;
pub mod invites;
pub mod limits;
pub mod providers;
pub mod reruns;
pub mod review_sheet;
pub mod reviews;
pub mod samples;
pub mod wizard;
#[cfg(feature = "server")]
mod workbench;

pub use actor::Actor;
pub use error::Error;
#[cfg(feature = "server")]
pub use workbench::{TYPICAL_SECONDS_PER_REQUEST, Workbench, display_time, model_rates};
