//! The grid's window onto the batch: at most [`QUEUE_WINDOW`] rows at once, found by keyset
//! (the row index), moved a step of [`STEP`] rows when the reviewer nears either end of it. A
//! million rows scroll by without the page ever holding more than the window.

use crate::api::batch::{QUEUE_WINDOW, QueueLine, QueuePage};

/// Rows the window moves by; a third of it, so the rows on screen stay in it.
pub(super) const STEP: usize = QUEUE_WINDOW as usize / 3;

/// Where the window is: the first rows, the rows after a row, or the rows before one. Each names
/// the same rows again on a live refresh (those that still match the filters).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Cursor {
    Start,
    After(i64),
    Before(i64),
}

/// What the reviewer can reach beyond the window's ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(super) struct Edges {
    /// Rows come before the window's first.
    pub earlier: bool,
    /// Rows come after the window's last.
    pub later: bool,
}

impl Edges {
    /// Both ends open: after a jump, before anything says otherwise.
    pub const OPEN: Self = Self {
        earlier: true,
        later: true,
    };

    /// The edges once `page` is what `cursor` found, the window having held `old` before.
    ///
    /// A fetch knows its own direction exactly (`has_more`). The other side is known only from
    /// the window before: rows it held that the new window left out are still there. So the
    /// edges never flip back and forth between two moves that each found nothing new.
    pub fn after_fetch(self, cursor: Cursor, old: &[QueueLine], page: &QueuePage) -> Self {
        let first = page.lines.first().map(|l| l.row_index);
        let last = page.lines.last().map(|l| l.row_index);
        match cursor {
            Cursor::Start => Self {
                earlier: false,
                later: page.has_more,
            },
            Cursor::After(_) => Self {
                earlier: self.earlier || old.iter().any(|l| first.is_none_or(|f| l.row_index < f)),
                later: page.has_more,
            },
            Cursor::Before(end) => Self {
                earlier: page.has_more,
                later: end != END_ROW
                    && (self.later || old.iter().any(|l| last.is_none_or(|f| l.row_index > f))),
            },
        }
    }
}

/// The cursor one step on: the window then starts `STEP` rows further (or less, to stay full),
/// keeping the rows the reviewer is looking at.
pub(super) fn forward(lines: &[QueueLine]) -> Option<Cursor> {
    let n = lines.len();
    let dropped = (n + STEP)
        .saturating_sub(QUEUE_WINDOW as usize)
        .min(n.checked_sub(1)?);
    Some(Cursor::After(lines[dropped].row_index - 1))
}

/// The cursor one step back: the window then ends where its first two steps end now.
pub(super) fn backward(lines: &[QueueLine]) -> Option<Cursor> {
    let n = lines.len();
    let kept = (QUEUE_WINDOW as usize - STEP).min(n);
    let last = lines.get(kept.checked_sub(1)?)?;
    Some(Cursor::Before(last.row_index + 1))
}

/// The cursor of a window that starts at row `row` (0-based).
pub(super) fn starting_at(row: i64) -> Cursor {
    if row <= 0 {
        Cursor::Start
    } else {
        Cursor::After(row - 1)
    }
}

/// Beyond any row: the window before it ends at the batch's last row.
const END_ROW: i64 = i64::MAX;

/// The cursor of the window that ends at the batch's last row.
pub(super) const END: Cursor = Cursor::Before(END_ROW);

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(rows: impl IntoIterator<Item = i64>) -> Vec<QueueLine> {
        rows.into_iter()
            .map(|row_index| QueueLine {
                row_index,
                status: "succeeded".into(),
                cells: Vec::new(),
                started: None,
                finished: None,
                latency_ms: None,
                answers: Vec::new(),
                model_answers: Vec::new(),
                answer: None,
                review: None,
                model_changed: false,
                error: None,
            })
            .collect()
    }

    fn page(rows: impl IntoIterator<Item = i64>, has_more: bool) -> QueuePage {
        QueuePage {
            lines: lines(rows),
            has_more,
        }
    }

    #[test]
    fn a_full_window_moves_on_by_a_step_and_keeps_the_rest() {
        let window = lines(0..150);
        assert_eq!(forward(&window), Some(Cursor::After(49)));
        assert_eq!(backward(&lines(300..450)), Some(Cursor::Before(400)));
    }

    #[test]
    fn a_short_window_grows_before_it_drops_anything() {
        // The first screen holds 50 rows: the next fetch fills the window from the same row.
        assert_eq!(forward(&lines(0..50)), Some(Cursor::After(-1)));
        assert_eq!(forward(&lines(10..130)), Some(Cursor::After(29)));
        assert_eq!(backward(&lines(500..540)), Some(Cursor::Before(540)));
        assert_eq!(forward(&[]), None);
        assert_eq!(backward(&[]), None);
    }

    #[test]
    fn keyset_moves_skip_the_rows_a_filter_leaves_out() {
        let window = lines((0..150).map(|i| i * 7));
        assert_eq!(forward(&window), Some(Cursor::After(50 * 7 - 1)));
        assert_eq!(backward(&window), Some(Cursor::Before(99 * 7 + 1)));
    }

    #[test]
    fn a_jump_names_the_window_from_its_first_row() {
        assert_eq!(starting_at(0), Cursor::Start);
        assert_eq!(starting_at(-3), Cursor::Start);
        assert_eq!(starting_at(1000), Cursor::After(999));
    }

    #[test]
    fn each_fetch_knows_its_own_side_and_learns_the_other_from_the_rows_it_dropped() {
        let start = Edges::default().after_fetch(Cursor::Start, &[], &page(0..150, true));
        assert_eq!(
            start,
            Edges {
                earlier: false,
                later: true
            }
        );

        // On by a step: the 50 rows dropped are before the window now.
        let on = start.after_fetch(Cursor::After(49), &lines(0..150), &page(50..200, true));
        assert_eq!(
            on,
            Edges {
                earlier: true,
                later: true
            }
        );

        // At the end: nothing more after it.
        let end = on.after_fetch(Cursor::After(99), &lines(50..200), &page(100..220, false));
        assert_eq!(
            end,
            Edges {
                earlier: true,
                later: false
            }
        );

        // Back from the end: the rows dropped from its tail are after it.
        let back = end.after_fetch(Cursor::Before(200), &lines(100..220), &page(50..200, true));
        assert_eq!(
            back,
            Edges {
                earlier: true,
                later: true
            }
        );
    }

    #[test]
    fn a_step_that_finds_nothing_new_settles_the_edge_for_good() {
        // A jump to row 10 of a filter that matches 30 rows: both ends open at first.
        let jumped = Edges::OPEN.after_fetch(Cursor::After(9), &[], &page(10..40, false));
        assert_eq!(
            jumped,
            Edges {
                earlier: true,
                later: false
            }
        );
        // Back finds the rows before row 10: none; the later side stays closed, since the
        // window dropped nothing.
        let back = jumped.after_fetch(Cursor::Before(40), &lines(10..40), &page(10..40, false));
        assert_eq!(
            back,
            Edges {
                earlier: false,
                later: false
            }
        );
        // A live refresh of the same window learns nothing new either way.
        let again = back.after_fetch(Cursor::Before(40), &lines(10..40), &page(10..40, false));
        assert_eq!(again, back);
    }

    #[test]
    fn the_window_at_the_end_has_nothing_after_it() {
        let end = Edges::OPEN.after_fetch(END, &lines(0..150), &page(999_850..1_000_000, true));
        assert_eq!(
            end,
            Edges {
                earlier: true,
                later: false
            }
        );
        let first = Edges::OPEN.after_fetch(Cursor::Start, &lines(500..650), &page(0..150, true));
        assert_eq!(
            first,
            Edges {
                earlier: false,
                later: true
            }
        );
    }

    #[test]
    fn an_empty_answer_keeps_the_rows_it_lost_on_their_side() {
        let empty = Edges::default().after_fetch(Cursor::After(5), &lines(0..10), &page([], false));
        assert_eq!(
            empty,
            Edges {
                earlier: true,
                later: false
            }
        );
    }
}
