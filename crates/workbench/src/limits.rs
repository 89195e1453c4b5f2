//! The limits and page sizes every face keeps alike: the wizard's steps, the JSON API and the
//! batch page refuse and page with these numbers and no others.

/// The most fields a response schema may have.
pub const MAX_FIELDS: usize = 100;

/// The longest pair of templates the server keeps, in bytes: far beyond any prompt, short of abuse.
pub const MAX_TEMPLATE_BYTES: usize = 200_000;

/// The longest display name of a dataset, in characters.
pub const MAX_NAME_CHARS: usize = 200;

/// How many batches the batches list holds.
pub const LIST_LIMIT: u32 = 200;

/// Rows in the preview of a dataset.
pub const PREVIEW_ROWS: u32 = 20;

/// Rows of the batch page's first screen of the grid.
pub const QUEUE_PAGE: u32 = 50;

/// The most rows the batch page's grid holds at once: as it scrolls, it fetches this many by
/// keyset from a row on either side of the screen, so a million rows never load at once.
pub const QUEUE_WINDOW: u32 = 150;

/// Rows a page of `GET /api/batches/{id}/rows` holds when the client does not say.
pub const API_PAGE: u32 = 100;

/// The largest page of rows a client of the JSON API may ask for.
pub const MAX_API_PAGE: u32 = 1_000;

/// The most characters of a cell or answer the queue table gets: a page of 1 MB cells would be
/// 50 MB, and the table shows a line of each anyway.
pub const CELL_CHARS: usize = 300;
