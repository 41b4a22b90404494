// Render evalkit reports in Debian's headless Chromium: screenshots at phone and desktop widths
// (and with the print stylesheet), an axe-core accessibility audit, a check that nothing is
// wider than a 360 px screen, and a check that the page loads nothing from outside itself.
//
// Usage: node tools/a11y/audit.mjs [--screenshots DIR] [--json FILE] report.html ...
// Exit code 0 when no report has a serious or critical axe violation, horizontal overflow at
// 360 px, or an external request; 1 otherwise; 2 for usage errors (e.g. no Chromium).
//
// Install: apt-get install chromium; npm ci --prefix tools/a11y (puppeteer-core drives the
// system Chromium and downloads no browser of its own).

import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { basename, join, resolve } from "node:path";
import { pathToFileURL } from "node:url";

import puppeteer from "puppeteer-core";

const require = createRequire(import.meta.url);
const AXE_PATH = require.resolve("axe-core/axe.min.js");
const FAILING_IMPACTS = new Set(["serious", "critical"]);
const AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"];

function parseArgs(argv) {
  const opts = { screenshots: null, json: null, files: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--screenshots") opts.screenshots = argv[++i];
    else if (a === "--json") opts.json = argv[++i];
    else if (a.startsWith("--")) throw new Error(`unknown option ${a}`);
    else opts.files.push(a);
  }
  if (!opts.files.length) throw new Error("give at least one report.html");
  return opts;
}

function chromiumPath() {
  const candidates = [process.env.CHROMIUM, "/usr/bin/chromium", "/usr/bin/chromium-browser"];
  return candidates.find((p) => p && existsSync(p));
}

async function auditOne(browser, file, shotsDir) {
  const page = await browser.newPage();
  const external = [];
  await page.setRequestInterception(true);
  page.on("request", (req) => {
    const url = req.url();
    if (url.startsWith("file:") || url.startsWith("data:") || url.startsWith("about:")) {
      req.continue();
    } else {
      external.push(url);
      req.abort();
    }
  });
  const url = pathToFileURL(resolve(file)).href;
  const name = basename(file, ".html");
  const result = { file, violations: [], overflow: null, external };

  await page.setViewport({ width: 360, height: 740, deviceScaleFactor: 1 });
  await page.goto(url, { waitUntil: "load" });
  result.overflow = await page.evaluate(() => {
    const docWidth = document.documentElement.scrollWidth;
    if (docWidth <= window.innerWidth) return null;
    // name the widest offending elements (outside scrollable table wrappers)
    const wide = [];
    for (const el of document.querySelectorAll("body *")) {
      const r = el.getBoundingClientRect();
      if (r.right > window.innerWidth + 1 && !el.closest(".table-wrap")) {
        wide.push(`${el.tagName.toLowerCase()}${el.id ? "#" + el.id : ""}${el.className && typeof el.className === "string" ? "." + el.className.split(" ")[0] : ""}`);
      }
    }
    return { docWidth, elements: wide.slice(0, 5) };
  });
  if (shotsDir) {
    await page.screenshot({ path: join(shotsDir, `${name}-360.png`), fullPage: true });
  }

  await page.addScriptTag({ path: AXE_PATH });
  const axe = await page.evaluate(
    (tags) => window.axe.run(document, { runOnly: { type: "tag", values: tags }, resultTypes: ["violations"] }),
    AXE_TAGS,
  );
  result.violations = axe.violations.map((v) => ({
    id: v.id,
    impact: v.impact,
    help: v.help,
    nodes: v.nodes.length,
    targets: v.nodes.slice(0, 3).map((n) => n.target.join(" ")),
  }));

  if (shotsDir) {
    await page.setViewport({ width: 1280, height: 900, deviceScaleFactor: 1 });
    await page.screenshot({ path: join(shotsDir, `${name}-1280.png`), fullPage: true });
    await page.emulateMediaType("print");
    await page.setViewport({ width: 794, height: 1123, deviceScaleFactor: 1 });
    await page.screenshot({ path: join(shotsDir, `${name}-print.png`), fullPage: true });
  }
  await page.close();
  return result;
}

async function main() {
  let opts;
  try {
    opts = parseArgs(process.argv.slice(2));
  } catch (e) {
    console.error(`audit: ${e.message}`);
    return 2;
  }
  const executablePath = chromiumPath();
  if (!executablePath) {
    console.error("audit: no Chromium found (apt-get install chromium, or set CHROMIUM)");
    return 2;
  }
  if (opts.screenshots) mkdirSync(opts.screenshots, { recursive: true });
  const profile = mkdtempSync(join(tmpdir(), "evalkit-chromium-"));
  const browser = await puppeteer.launch({
    executablePath,
    headless: true,
    userDataDir: profile,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-dev-shm-usage",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--disable-default-apps",
      "--disable-extensions",
      "--no-first-run",
      "--no-default-browser-check",
      "--allow-file-access-from-files",
      "--font-render-hinting=none",
    ],
  });
  const results = [];
  try {
    for (const file of opts.files) {
      results.push(await auditOne(browser, file, opts.screenshots));
    }
  } finally {
    await browser.close();
    rmSync(profile, { recursive: true, force: true });
  }

  let failed = false;
  for (const r of results) {
    const bad = r.violations.filter((v) => FAILING_IMPACTS.has(v.impact));
    const other = r.violations.filter((v) => !FAILING_IMPACTS.has(v.impact));
    const problems = [];
    if (bad.length) problems.push(`${bad.length} serious/critical axe violation(s)`);
    if (r.overflow) problems.push(`wider than 360 px (${r.overflow.docWidth} px: ${r.overflow.elements.join(", ")})`);
    if (r.external.length) problems.push(`external requests: ${r.external.slice(0, 3).join(", ")}`);
    failed ||= problems.length > 0;
    console.log(`${problems.length ? "FAIL" : "ok  "} ${r.file}${problems.length ? ": " + problems.join("; ") : ""}`);
    for (const v of r.violations) {
      console.log(`     ${v.impact}: ${v.id} (${v.nodes} element(s)): ${v.help} [${v.targets.join(" | ")}]`);
    }
    if (!r.violations.length) console.log("     axe: no violations");
    else if (!bad.length) console.log(`     axe: ${other.length} minor/moderate finding(s), none serious`);
  }
  if (opts.json) writeFileSync(opts.json, JSON.stringify(results, null, 2) + "\n");
  return failed ? 1 : 0;
}

process.exitCode = await main();
