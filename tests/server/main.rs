//! Integration tests: each starts the real server on port 0 with a fresh database.

mod batches;
mod comparisons;
mod crash;
mod csrf;
mod datasets;
mod errors;
mod events;
mod export;
mod health;
mod helpers;
mod instances;
mod isolation;
mod mapping;
mod pages;
mod providers;
mod queue;
mod reruns;
mod restarts;
mod reviews;
mod samples;
mod security;
mod sessions;
mod startup;
mod team_admin;
mod teams;
mod trials;
