//! Answer charts kept in memory under their batch's answers version, so a finished batch's
//! answers are read once rather than on every visit to its page (on 1,000,000 rows the reading
//! takes about 3 s; a cached read is one indexed lookup).

use std::collections::HashMap;
use std::sync::Mutex;

use crate::batch_view::{Chart, ChartKind, answer_charts};
use crate::database::on_pool;
use crate::{Database, StoreError};

/// How many batches' charts are kept when nothing else is said; the least recently read go first.
const KEEP: usize = 64;

/// What a batch's charts were drawn from besides its answers.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Key {
    batch_id: i64,
    fields: Vec<(String, ChartKind)>,
    max_answers: u32,
    buckets: u32,
}

#[derive(Debug)]
struct Entry {
    /// The batch's `answers_version` read before its answers were.
    version: i64,
    charts: Vec<Chart>,
    /// When this entry was last read, on the cache's own clock.
    used: u64,
}

#[derive(Debug, Default)]
struct Entries {
    by_key: HashMap<Key, Entry>,
    clock: u64,
}

/// The charts of recently read batches; share one per server.
#[derive(Debug)]
pub struct ChartCache {
    keep: usize,
    entries: Mutex<Entries>,
}

impl Default for ChartCache {
    fn default() -> Self {
        Self::new(KEEP)
    }
}

impl ChartCache {
    /// A cache of the charts of at most `keep` batches (at least one).
    pub fn new(keep: usize) -> Self {
        Self {
            keep: keep.max(1),
            entries: Mutex::new(Entries::default()),
        }
    }

    /// The same as [`answer_charts`], read again only when the batch's answers may have changed
    /// since the last read: a result was written or rows went back to the queue.
    pub async fn answer_charts(
        &self,
        db: &Database,
        batch_id: i64,
        fields: &[(&str, ChartKind)],
        max_answers: u32,
        buckets: u32,
    ) -> Result<Vec<Chart>, StoreError> {
        // Read before the answers: a result written meanwhile is in the charts or moves the
        // version past this one, so the entry is never newer in name than in content. The
        // version is the database's, not this instance's: a row another instance finishes moves
        // it just the same.
        let version: Option<i64> = on_pool!(db, |pool, _dialect| {
            sqlx::query_scalar("SELECT answers_version FROM batches WHERE id = $1")
                .bind(batch_id)
                .fetch_optional(pool)
                .await?
        });
        let Some(version) = version else {
            return answer_charts(db, batch_id, fields, max_answers, buckets).await;
        };
        let key = Key {
            batch_id,
            fields: fields.iter().map(|(f, k)| ((*f).to_owned(), *k)).collect(),
            max_answers,
            buckets,
        };
        if let Some(charts) = self.lookup(&key, version) {
            return Ok(charts);
        }
        let charts = answer_charts(db, batch_id, fields, max_answers, buckets).await?;
        self.keep_charts(key, version, charts.clone());
        Ok(charts)
    }

    fn lookup(&self, key: &Key, version: i64) -> Option<Vec<Chart>> {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries.clock += 1;
        let now = entries.clock;
        let entry = entries.by_key.get_mut(key)?;
        if entry.version != version {
            return None;
        }
        entry.used = now;
        Some(entry.charts.clone())
    }

    fn keep_charts(&self, key: Key, version: i64, charts: Vec<Chart>) {
        // A poisoned lock only means another reader panicked mid-update of plain data.
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries.clock += 1;
        let used = entries.clock;
        entries.by_key.insert(
            key,
            Entry {
                version,
                charts,
                used,
            },
        );
        while entries.by_key.len() > self.keep {
            let oldest = entries
                .by_key
                .iter()
                .min_by_key(|(_, entry)| entry.used)
                .map(|(key, _)| key.clone());
            match oldest {
                Some(key) => entries.by_key.remove(&key),
                None => break,
            };
        }
    }

    #[cfg(test)]
    fn batches(&self) -> Vec<i64> {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        let mut ids: Vec<i64> = entries.by_key.keys().map(|k| k.batch_id).collect();
        ids.sort_unstable();
        ids
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::database::tests::fresh_database;
    use crate::queue::test_support::{batch, claim, succeeded};
    use crate::queue::{finish_row, retry_row};
    use crate::testing::execute;

    const FIELDS: [(&str, ChartKind); 1] = [("answer", ChartKind::Counts)];

    fn counts(pairs: &[(&str, i64)]) -> Vec<Chart> {
        vec![Chart::Counts(
            pairs.iter().map(|(a, n)| ((*a).to_owned(), *n)).collect(),
        )]
    }

    /// The count chart of the answers of batch `id`, through `cache`.
    async fn read(cache: &ChartCache, db: &Database, id: i64) -> Vec<Chart> {
        cache
            .answer_charts(db, id, &FIELDS, 12, 10)
            .await
            .expect("charts")
    }

    /// A finished batch of two rows answered 1 and 2.
    async fn finished_batch(db: &Database) -> i64 {
        let id = batch(db, "alice", 2, 2).await;
        for answer in [1, 2] {
            let row = claim(db).await;
            finish_row(db, id, row.row_index, row.claim, succeeded(answer))
                .await
                .expect("finish");
        }
        id
    }

    #[tokio::test]
    async fn unchanged_answers_are_read_once_and_a_row_run_again_is_read_anew() {
        let (db, _dir) = fresh_database().await;
        let id = finished_batch(&db).await;
        let cache = ChartCache::default();
        let first = read(&cache, &db, id).await;
        assert_eq!(first, counts(&[("1", 1), ("2", 1)]));

        // Changed behind the queue's back: the version stands, so do the cached charts.
        execute(
            &db,
            "UPDATE batch_rows SET result = '{\"answer\":5}' WHERE batch_id = $1",
            &[id],
        )
        .await;
        let again = read(&cache, &db, id).await;
        assert_eq!(again, first);

        // Row 0 runs again and answers 9: as many rows succeeded as before, other answers.
        assert!(retry_row(&db, "alice", id, 0).await.expect("retry"));
        let waiting = read(&cache, &db, id).await;
        assert_eq!(
            waiting,
            counts(&[("5", 1)]),
            "the requeued row's answer is gone"
        );
        let row = claim(&db).await;
        finish_row(&db, id, 0, row.claim, succeeded(9))
            .await
            .expect("finish");
        let after = read(&cache, &db, id).await;
        assert_eq!(after, counts(&[("5", 1), ("9", 1)]));
    }

    #[tokio::test]
    async fn a_row_another_instance_finishes_is_in_the_next_read() {
        let (db, place) = fresh_database().await;
        let other = Database::connect(&place.url)
            .await
            .expect("a second instance on the same database");
        let id = batch(&db, "alice", 2, 2).await;
        let row = claim(&db).await;
        finish_row(&db, id, row.row_index, row.claim, succeeded(1))
            .await
            .expect("finish");
        let cache = ChartCache::default();
        assert_eq!(read(&cache, &db, id).await, counts(&[("1", 1)]));

        // The other instance has a cache of its own, and this one never hears of its work.
        let row = claim(&other).await;
        finish_row(&other, id, row.row_index, row.claim, succeeded(2))
            .await
            .expect("finish");
        assert_eq!(
            read(&cache, &db, id).await,
            counts(&[("1", 1), ("2", 1)]),
            "the version in the database moved"
        );
        other.close().await;
    }

    #[tokio::test]
    async fn other_fields_or_sizes_of_the_same_batch_are_drawn_apart() {
        let (db, _dir) = fresh_database().await;
        let id = finished_batch(&db).await;
        let cache = ChartCache::default();
        let counted = cache
            .answer_charts(&db, id, &FIELDS, 1, 10)
            .await
            .expect("charts");
        assert_eq!(counted, counts(&[("1", 1)]));
        let binned = cache
            .answer_charts(&db, id, &[("answer", ChartKind::Histogram)], 1, 1)
            .await
            .expect("charts");
        assert_eq!(binned, vec![Chart::Histogram(vec![(1.0, 2.0, 2)])]);
    }

    #[tokio::test]
    async fn the_least_recently_read_batch_is_dropped_past_the_limit() {
        let (db, _dir) = fresh_database().await;
        let ids = [
            finished_batch(&db).await,
            finished_batch(&db).await,
            finished_batch(&db).await,
        ];
        let cache = ChartCache::new(2);
        for id in [ids[0], ids[1], ids[0], ids[2]] {
            read(&cache, &db, id).await;
        }
        assert_eq!(cache.batches(), [ids[0], ids[2]]);
    }

    #[tokio::test]
    async fn a_batch_that_is_not_there_has_empty_charts_and_is_not_kept() {
        let (db, _dir) = fresh_database().await;
        let cache = ChartCache::default();
        let charts = read(&cache, &db, 404).await;
        assert_eq!(charts, vec![Chart::Counts(Vec::new())]);
        assert!(cache.batches().is_empty());
    }
}
