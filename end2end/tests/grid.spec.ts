// The results grid as a window onto a batch larger than it: scrolled, stepped through with the
// keyboard and jumped across, it never holds more than 150 rows, keeps the row on top of the
// screen where it was as it moves, and keeps the reviewer's focus.
import { test, expect, waitForHydration, batchOver } from "./fixtures";
import type { Page } from "@playwright/test";

const ROWS = 420;
const WINDOW = 150;
const csv = ["id,review", ...Array.from({ length: ROWS }, (_, i) => `G-${i + 1},review number ${i + 1}`)].join("\n");

let batch = 0;

test.beforeAll(async ({ request }) => {
  batch = await batchOver(request, csv, 64, "grid-window");
  await expect
    .poll(async () => (await (await request.get(`/api/batches/${batch}`)).json()).status, { timeout: 30_000 })
    .toBe("completed");
});

test.afterAll(async ({ request }) => {
  expect((await request.delete(`/api/batches/${batch}`)).status()).toBe(204);
});

const region = (page: Page) => page.getByRole("region", { name: "Rows of the batch" });
const lines = (page: Page) => page.getByTestId("queue-row");
const drawnRows = (page: Page) =>
  lines(page).evaluateAll((trs) => trs.map((tr) => Number(tr.getAttribute("data-row"))));

type OnTop = { row: number; offset: number };

/// Scrolls the grid to `y` (unless null) and answers the row just under the sticky header and
/// how far below it that row's top is, before anything else runs.
async function rowOnTop(page: Page, y: number | null = null): Promise<OnTop> {
  return region(page).evaluate((el, y) => {
    if (y !== null) el.scrollTo(0, y < 0 ? el.clientHeight / 2 : y);
    const top = el.querySelector("thead th")!.getBoundingClientRect().bottom;
    for (const tr of el.querySelectorAll<HTMLElement>("tr[data-row]")) {
      const rect = tr.getBoundingClientRect();
      if (rect.bottom > top) return { row: Number(tr.dataset.row), offset: rect.top - top };
    }
    throw new Error("no row on the screen");
  }, y);
}

/// Whether `then` is the same row as `now`, within a pixel of where it was.
const samePlace = (now: OnTop, then: OnTop) => now.row === then.row && Math.abs(now.offset - then.offset) <= 1;

async function open(page: Page) {
  await page.goto(`/batches/${batch}`);
  await waitForHydration(page);
  await expect(lines(page)).toHaveCount(50);
}

test("scrolled from the first row to the last and back, the grid holds at most 150 rows and the row on top stays in place as it moves", async ({ page }) => {
  await open(page);
  let most = 0;
  // Down: each scroll to the bottom of the window moves it on by a step.
  for (let i = 0; i < 20; i++) {
    const before = await drawnRows(page);
    if (before.includes(ROWS - 1)) break;
    await region(page).evaluate((el) => el.scrollTo(0, el.scrollHeight));
    await expect.poll(async () => (await drawnRows(page)).at(-1)).toBeGreaterThan(before.at(-1)!);
    most = Math.max(most, (await drawnRows(page)).length);
  }
  expect(most).toBeLessThanOrEqual(WINDOW);
  await expect(page.locator(`tr[data-row="${ROWS - 1}"]`)).toBeAttached();
  await expect(page.getByTestId("window-span")).toHaveText(new RegExp(`^Rows \\d+–${ROWS} · \\d+ shown$`));
  await expect(page.getByRole("button", { name: "Last row ⇥" })).toBeDisabled();

  // Up again, with the pixel check: the row on top before a move is there after it.
  for (let i = 0; i < 20; i++) {
    const before = await drawnRows(page);
    if (before[0] === 0) break;
    // Half a screen from the top: near enough for the window to move back.
    const onTop = await rowOnTop(page, -1);
    await expect.poll(async () => (await drawnRows(page))[0]).toBeLessThan(before[0]);
    // The compensation runs in the frame after the rows are drawn.
    await expect.poll(async () => samePlace(await rowOnTop(page), onTop)).toBe(true);
    most = Math.max(most, (await drawnRows(page)).length);
  }
  expect(most).toBeLessThanOrEqual(WINDOW);
  await expect(page.locator('tr[data-row="0"]')).toBeAttached();
  await expect(page.getByRole("button", { name: "⇤ First row" })).toBeDisabled();
});

test("a reviewer pressing j past the window's end keeps the focus on every row, reviews there, and k brings them back to the first row", async ({ page }) => {
  await open(page);
  await lines(page).first().focus();
  const focused = (row: number) => expect(page.locator(`tr[data-row="${row}"]`)).toBeFocused();
  // Quick presses, as a reviewer skimming rows does; the window moves ahead of the focus.
  for (let row = 1; row <= 230; row++) {
    await page.keyboard.press("j");
    if (row % 10 === 0) await focused(row);
  }
  await focused(230);
  expect((await drawnRows(page)).length).toBeLessThanOrEqual(WINDOW);

  // A review far from the first screen saves in place and moves on to the next row.
  await page.keyboard.press("a");
  await expect(page.locator('tr[data-row="230"]')).toHaveAttribute("data-review", "accepted");
  await focused(231);

  for (let row = 230; row >= 0; row--) {
    await page.keyboard.press("k");
    if (row % 10 === 0) await focused(row);
  }
  await focused(0);
  expect((await drawnRows(page)).length).toBeLessThanOrEqual(WINDOW);
});

test("go to row, last row and first row jump across the batch and put the focus there", async ({ page }) => {
  await open(page);
  const goTo = page.getByLabel("Go to row");
  await goTo.fill("1,000,000x");
  await goTo.press("Enter");
  await expect(page.getByRole("alert").filter({ hasText: "is not a row number" })).toHaveText('"1,000,000x" is not a row number: rows count from 1.');

  await goTo.fill("300");
  await goTo.press("Enter");
  await expect(page.locator('tr[data-row="299"]')).toBeFocused();
  await expect(page.getByRole("alert").filter({ hasText: "is not a row number" })).toHaveCount(0);
  // The window reaches back a step at once (row 300 at the top of the screen stays there), so
  // the rows before it are a scroll away.
  await expect(page.getByTestId("window-span")).toHaveText("Rows 250–399 · 150 shown");
  await expect.poll(async () => (await rowOnTop(page)).row).toBe(299);

  await page.getByRole("button", { name: "Last row ⇥" }).click();
  await expect(page.locator(`tr[data-row="${ROWS - 1}"]`)).toBeFocused();
  await expect(page.getByRole("button", { name: "Last row ⇥" })).toBeDisabled();
  await expect(lines(page)).toHaveCount(WINDOW);

  await page.getByRole("button", { name: "⇤ First row" }).click();
  await expect(page.locator('tr[data-row="0"]')).toBeFocused();
  await expect(page.getByTestId("window-span")).toHaveText(`Rows 1–${WINDOW} · ${WINDOW} shown`);
  // A filter starts from its first row at the top of the grid.
  await region(page).evaluate((el) => el.scrollTo(0, el.scrollHeight));
  await page.getByRole("button", { name: "Rejected" }).click();
  await expect(page).toHaveURL(/review=rejected/);
  await expect(page.getByText("No rows here.")).toBeVisible();
  expect(await region(page).evaluate((el) => el.scrollTop)).toBe(0);
});
