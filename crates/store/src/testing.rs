//! Fresh databases for tests, on either engine: an SQLite file in a temporary directory, or, when
//! `ROWBENCH_TEST_POSTGRES` names a PostgreSQL server, a new database of its own there. The same
//! suites thus run on both (`.ci/test` runs them twice); an unreachable server fails the test, it
//! is never skipped.

use std::sync::atomic::{AtomicU64, Ordering};

use sqlx::{Connection, PgConnection};

use crate::{Database, Engine};

/// The variable naming the PostgreSQL server tests may create databases on, e.g.
/// `postgres://rowbench:secret@127.0.0.1:54329/postgres`.
pub const POSTGRES_VARIABLE: &str = "ROWBENCH_TEST_POSTGRES";

/// Which engine this test run uses.
pub fn engine() -> Engine {
    match std::env::var(POSTGRES_VARIABLE) {
        Ok(url) if !url.is_empty() => Engine::Postgres,
        _ => Engine::Sqlite,
    }
}

/// A database made for one test; dropped with it.
#[derive(Debug)]
pub struct TestPlace {
    /// The address to connect to (a server started by the test takes it as `DATABASE_URL`).
    pub url: String,
    dir: Option<tempfile::TempDir>,
    postgres: Option<(String, String)>,
}

impl TestPlace {
    /// A directory that lives as long as the database, for the test's other files.
    pub fn dir(&self) -> Option<&std::path::Path> {
        self.dir.as_ref().map(|dir| dir.path())
    }
}

impl Drop for TestPlace {
    fn drop(&mut self) {
        let Some((admin, name)) = self.postgres.take() else {
            return;
        };
        // Drop is not async, and the test's runtime may be the thread running this: a thread of
        // its own with a runtime of its own drops the database (FORCE ends the test's
        // connections), so a long run does not fill the disk with databases.
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            runtime.block_on(async {
                let mut admin = PgConnection::connect(&admin).await?;
                sqlx::query(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                    .execute(&mut admin)
                    .await?;
                Ok::<_, Box<dyn std::error::Error + Send + Sync>>(())
            })?;
            Ok::<_, Box<dyn std::error::Error + Send + Sync>>(())
        })
        .join();
        if let Ok(Err(error)) = dropped {
            eprintln!("could not drop a test database: {error}");
        }
    }
}

/// The address of a new, empty database (not migrated).
pub async fn fresh_place() -> TestPlace {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    match std::env::var(POSTGRES_VARIABLE) {
        Ok(admin) if !admin.is_empty() => {
            let name = format!(
                "rowbench_test_{}_{}_{}",
                std::process::id(),
                COUNTER.fetch_add(1, Ordering::Relaxed),
                crate::Timestamp::now().as_millis() % 1_000_000
            );
            let mut connection = PgConnection::connect(&admin)
                .await
                .unwrap_or_else(|e| panic!("{POSTGRES_VARIABLE} names a server that refused: {e}"));
            sqlx::query(&format!("CREATE DATABASE \"{name}\""))
                .execute(&mut connection)
                .await
                .expect("a test database is created");
            let url = with_database(&admin, &name);
            TestPlace {
                url,
                dir: Some(tempfile::tempdir().expect("temporary directory")),
                postgres: Some((admin, name)),
            }
        }
        _ => {
            let dir = tempfile::tempdir().expect("temporary directory");
            TestPlace {
                url: format!("sqlite://{}", dir.path().join("test.db").display()),
                dir: Some(dir),
                postgres: None,
            }
        }
    }
}

/// A migrated database of its own, on this run's engine.
pub async fn fresh_database() -> (Database, TestPlace) {
    let place = fresh_place().await;
    let db = Database::connect(&place.url).await.expect("database opens");
    db.migrate().await.expect("migrations apply");
    (db, place)
}

/// Runs `sql` (with `$1`-style parameters, which both engines read) for a test that checks or
/// sets up what no store function does; how many rows it changed.
pub async fn execute(db: &Database, sql: &str, binds: &[i64]) -> u64 {
    crate::database::on_pool!(db, |pool, _dialect| {
        let mut query = sqlx::query(sql);
        for bind in binds {
            query = query.bind(*bind);
        }
        query
            .execute(pool)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
            .rows_affected()
    })
}

/// The one number `sql` selects (`COUNT(*)`, a BIGINT column).
pub async fn scalar_i64(db: &Database, sql: &str, binds: &[i64]) -> i64 {
    crate::database::on_pool!(db, |pool, _dialect| {
        let mut query = sqlx::query_scalar(sql);
        for bind in binds {
            query = query.bind(*bind);
        }
        query
            .fetch_one(pool)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
    })
}

/// The text values `sql` selects, one per row (NULL as `None`).
pub async fn texts(db: &Database, sql: &str, binds: &[i64]) -> Vec<Option<String>> {
    crate::database::on_pool!(db, |pool, _dialect| {
        let mut query = sqlx::query_scalar(sql);
        for bind in binds {
            query = query.bind(*bind);
        }
        query
            .fetch_all(pool)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
    })
}

/// The rows of numbers `sql` selects (every column BIGINT, NULL as `None`).
pub async fn numbers(db: &Database, sql: &str, binds: &[i64]) -> Vec<Vec<Option<i64>>> {
    use sqlx::Row;
    crate::database::on_pool!(db, |pool, _dialect| {
        let mut query = sqlx::query(sql);
        for bind in binds {
            query = query.bind(*bind);
        }
        let rows = query
            .fetch_all(pool)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
        rows.iter()
            .map(|row| {
                (0..row.len())
                    .map(|i| {
                        row.try_get::<Option<i64>, _>(i)
                            .unwrap_or_else(|e| panic!("{sql}: {e}"))
                    })
                    .collect()
            })
            .collect()
    })
}

/// `url` with its database (the path) replaced by `name`, the query string kept.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let authority_end = base
        .find("://")
        .map(|scheme| scheme + 3)
        .and_then(|start| base[start..].find('/').map(|slash| start + slash))
        .unwrap_or(base.len());
    let mut out = format!("{}/{name}", &base[..authority_end]);
    if let Some(query) = query {
        out.push('?');
        out.push_str(query);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::with_database;

    #[test]
    fn a_test_database_address_keeps_the_server_and_the_options() {
        assert_eq!(
            with_database("postgres://u:p@h:5/postgres?sslmode=disable", "t1"),
            "postgres://u:p@h:5/t1?sslmode=disable"
        );
        assert_eq!(with_database("postgres://u@h", "t2"), "postgres://u@h/t2");
    }
}
