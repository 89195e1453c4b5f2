// Checks the page-by-page specs share: axe-core's serious and critical violations, and
// whether a page fits its window with nothing off-screen.
import AxeBuilder from "@axe-core/playwright";
import type { Page } from "@playwright/test";
import { expect } from "./fixtures";

/// The serious and critical violations on the page as it is now, one line each.
export async function violations(page: Page): Promise<string[]> {
  await page.waitForTimeout(150);
  const results = await new AxeBuilder({ page })
    .withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"])
    .analyze();
  return results.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.slice(0, 4).map((n) => n.target.join(" ")).join(" | ")}${v.nodes.length > 4 ? ` and ${v.nodes.length - 4} more` : ""}`);
}

/// What sticks out of the viewport on the right: the page's own width, and every visible control
/// or text block that ends past the edge without a scrolling frame of its own around it.
async function sticksOut(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const width = document.documentElement.clientWidth;
    const out: string[] = [];
    if (document.documentElement.scrollWidth > width + 1) {
      out.push(`the page is ${document.documentElement.scrollWidth} px wide in a ${width} px window`);
    }
    const scrolls = (el: Element | null): boolean => {
      for (let e = el?.parentElement; e; e = e.parentElement) {
        const style = getComputedStyle(e);
        if (["auto", "scroll"].includes(style.overflowX) && e.getBoundingClientRect().right <= width + 1) return true;
      }
      return false;
    };
    for (const el of document.querySelectorAll("button, a, input, select, textarea, label, h1, h2, p, dd, summary")) {
      const rect = el.getBoundingClientRect();
      if (rect.width === 0 || rect.height === 0) continue;
      if (rect.right > width + 1 && !scrolls(el)) {
        const name = (el.getAttribute("aria-label") || el.textContent || el.getAttribute("name") || "").trim().slice(0, 40);
        out.push(`${el.tagName.toLowerCase()} "${name}" ends at ${Math.round(rect.right)} px`);
      }
    }
    return out;
  });
}

/// Fails with every offender named, so one run shows all that is wrong on the page.
export async function fits(page: Page, what: string) {
  await page.waitForTimeout(150);
  expect(await sticksOut(page), `${what} fits the window`).toEqual([]);
}
