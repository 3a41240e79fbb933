#!/usr/bin/env python3
"""Runs axe-core (WCAG 2.1 A and AA) and the checks axe does not make on pages in one
headless Chromium, in every mode: each page at each viewport width (390 px is a phone,
emulated as one) and each colour scheme (light, dark through Chromium's media emulation).

Usage: browser_axe.py PLAN.json
PLAN: {"axe": WHEEL_OR_JS, "widths": [390, 1280], "schemes": ["light", "dark"],
       "pages": [{"name": ..., "url": ..., "action": null | "submit" | "submit_empty"}]}
  "submit" sends the form as it is (a page opened from an eNPS link has its score);
  "submit_empty" sends it with nothing chosen and the browser's own checks off, as an
  old browser would, so that the server answers 422.
Prints a JSON list, one entry per page, with "loads": one per width and scheme:
  violations  axe's, each {id, impact, help, nodes: [{target, summary}]}
  scroll_width, inner_width  of the document
  svg_text_min  the smallest rendered font size of any SVG text, in CSS px (null: none)
  borders  each answer box's border colour, its background and their contrast
  focus    for each of radio, textarea and button reached with the Tab key: the outline
           colour, the background around it, their contrast
and per page: "active" (the focused element right after the page loaded), "radios" (each
radio's accessible name as Chromium computes it) and "ends" (the boxes of each scale's
end labels).
Exits 3 when axe-core is missing or not 4.10.x."""
import json, sys, zipfile
from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.common.exceptions import TimeoutException
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait
from selenium.common.exceptions import WebDriverException

plan = json.load(open(sys.argv[1]))


def load_axe(path):
    try:
        if path.endswith(".whl"):
            with zipfile.ZipFile(path) as z:
                name = next(n for n in z.namelist() if n.endswith("axe-core/axe.min.js"))
                source = z.read(name).decode("utf-8")
        else:
            source = open(path, encoding="utf-8").read()
    except (OSError, StopIteration, zipfile.BadZipFile) as e:
        print(f"axe-core not found in {path!r} ({e}): run scripts/setup --test", file=sys.stderr)
        sys.exit(3)
    if not source.startswith("/*! axe v4.10."):
        print(f"{path}: not axe-core 4.10.x: {source[:40]!r}", file=sys.stderr)
        sys.exit(3)
    return source


AXE = load_axe(plan["axe"])
RUN_AXE = """
const done = arguments[arguments.length - 1];
axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}, resultTypes: ['violations']})
  .then(r => done(r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
      nodes: v.nodes.map(n => ({target: n.target.join(' '), summary: n.failureSummary}))}))))
  .catch(e => done([{id: 'axe-error', impact: 'critical', help: String(e), nodes: []}]));
"""
# Colours and contrast as WCAG defines them; the canvas behind a transparent page is
# white in light mode and Chromium's #121212 in dark mode.
HELPERS = """
const parse = c => { const m = c.match(/rgba?\\(([^)]+)\\)/); if (!m) return null;
  const p = m[1].split(/[ ,\\/]+/).filter(Boolean).map(Number); return {r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1}; };
const lum = c => { const f = v => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
  return 0.2126 * f(c.r) + 0.7152 * f(c.g) + 0.0722 * f(c.b); };
const ratio = (a, b) => { const x = lum(a), y = lum(b); return (Math.max(x, y) + 0.05) / (Math.min(x, y) + 0.05); };
const over = (top, bottom) => ({r: top.r * top.a + bottom.r * (1 - top.a), g: top.g * top.a + bottom.g * (1 - top.a),
  b: top.b * top.a + bottom.b * (1 - top.a), a: 1});
const canvas = matchMedia('(prefers-color-scheme: dark)').matches &&
  getComputedStyle(document.documentElement).colorScheme.includes('dark') ? {r: 18, g: 18, b: 18, a: 1} : {r: 255, g: 255, b: 255, a: 1};
const backdrop = el => { const layers = []; for (let e = el; e; e = e.parentElement) {
    const c = parse(getComputedStyle(e).backgroundColor); if (c && c.a > 0) layers.push(c); if (c && c.a === 1) break; }
  return layers.reverse().reduce((acc, c) => over(c, acc), canvas); };
const hex = c => '#' + [c.r, c.g, c.b].map(v => Math.round(v).toString(16).padStart(2, '0')).join('');
"""
MEASURE = HELPERS + """
const boxes = [...document.querySelectorAll('input[type=radio] + label, textarea')].map(el => {
  const s = getComputedStyle(el), border = parse(s.borderTopColor), bg = backdrop(el.parentElement);
  return {what: el.tagName.toLowerCase() + (el.htmlFor ? '[for=' + el.htmlFor + ']' : ''), border: hex(border),
          background: hex(bg), contrast: ratio(over(border, bg), bg)};
});
const texts = [...document.querySelectorAll('svg text')].filter(t => t.getBBox().width > 0).map(t =>
  parseFloat(getComputedStyle(t).fontSize) * Math.hypot(t.getScreenCTM().a, t.getScreenCTM().b));
return {scroll_width: document.documentElement.scrollWidth, inner_width: innerWidth,
        svg_text_min: texts.length ? Math.min(...texts) : null, borders: boxes.slice(0, 40)};
"""
FOCUS_RING = HELPERS + """
const el = document.activeElement, shown = el.matches('input[type=radio]') ? el.nextElementSibling : el;
const s = getComputedStyle(shown), ring = parse(s.outlineColor), bg = backdrop(shown.parentElement);
return {what: el.tagName.toLowerCase() + (el.type ? '[' + el.type + ']' : ''), style: s.outlineStyle,
        width: parseFloat(s.outlineWidth), ring: hex(ring), background: hex(bg), contrast: ratio(over(ring, bg), bg)};
"""
ACTIVE = """
const el = document.activeElement;
const links = [...el.querySelectorAll('a[href^="#"]')].map(a => { const t = document.getElementById(a.getAttribute('href').slice(1));
  return {href: a.getAttribute('href'), text: a.textContent.trim(), target_exists: !!t,
          target_invalid: !!t && (t.getAttribute('aria-invalid') === 'true' || t.classList.contains('invalid'))}; });
return {tag: el.tagName.toLowerCase(), id: el.id, class: el.className, text: el.innerText ? el.innerText.slice(0, 300) : '',
        links: links, invalid_fields: [...document.querySelectorAll('[aria-invalid=true]')].map(f => f.id)};
"""
ENDS = """
return [...document.querySelectorAll('.ends')].map(p => [...p.children].map(s => { const r = s.getBoundingClientRect();
  return {text: s.textContent, left: r.left, right: r.right, top: r.top, bottom: r.bottom,
          font_size: parseFloat(getComputedStyle(s).fontSize)}; }));
"""

options = Options()
for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1280,900",
            "--lang=en-US", "--hide-scrollbars"):
    options.add_argument(arg)
options.binary_location = "/usr/bin/chromium"
driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
driver.set_script_timeout(120)


def emulate(width, scheme):
    phone = width < 700
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": width, "height": 844 if phone else 900, "deviceScaleFactor": 1, "mobile": phone})
    driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"features": [{"name": "prefers-color-scheme", "value": scheme}]})


def open_page(page):
    emulate(plan["widths"][0], plan["schemes"][0])
    driver.get(page["url"])
    action = page.get("action")
    if action:
        # A mark on the old page's window: gone once the new page has loaded. (Selenium's
        # staleness_of asks the old element, and Chromium sometimes answers that with an
        # inspector error rather than a stale reference.)
        driver.execute_script("window.__pulseOldPage = true;")
        if action == "submit_empty":
            driver.execute_script("const f = document.querySelector('form'); f.noValidate = true;"
                                  "f.querySelectorAll('input:checked').forEach(i => i.checked = false);")
        driver.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
        WebDriverWait(driver, 10, ignored_exceptions=(WebDriverException,)).until(
            lambda d: d.execute_script("return window.__pulseOldPage !== true && document.readyState === 'complete'"))
        WebDriverWait(driver, 10).until(EC.presence_of_element_located((By.TAG_NAME, "h1")))
    # Autofocus happens at the first rendering after the load: give it a moment.
    try:
        WebDriverWait(driver, 1).until(lambda d: d.execute_script("return document.activeElement !== document.body"))
    except TimeoutException:
        pass


def focus_rings():
    """Tabs through the page from the top, once to the first element of each kind."""
    driver.execute_script("document.activeElement && document.activeElement.blur(); window.scrollTo(0, 0);")
    body = driver.find_element(By.TAG_NAME, "body")
    ActionChains(driver).move_to_element_with_offset(body, 0, 0)
    rings, seen = [], set()
    for _ in range(40):
        ActionChains(driver).send_keys(Keys.TAB).perform()
        kind = driver.execute_script("const e = document.activeElement; return e.tagName.toLowerCase() + (e.type ? '[' + e.type + ']' : '')")
        if kind == "body" or kind in seen:
            if kind == "body" and seen:
                break
            continue
        if kind in ("input[radio]", "textarea[textarea]", "button[submit]") or kind.startswith("a"):
            seen.add(kind)
            rings.append(driver.execute_script(FOCUS_RING))
    return rings


results = []
try:
    for page in plan["pages"]:
        open_page(page)
        entry = {"name": page["name"], "status_title": driver.title,
                 "active": driver.execute_script(ACTIVE),
                 "radios": [{"id": r.get_attribute("id"), "name": r.accessible_name}
                            for r in driver.find_elements(By.CSS_SELECTOR, "input[type=radio]")],
                 "loads": []}
        for width in plan["widths"]:
            for scheme in plan["schemes"]:
                emulate(width, scheme)
                driver.execute_script(AXE + "\n;return true;")
                load = {"width": width, "scheme": scheme, "violations": driver.execute_async_script(RUN_AXE)}
                load.update(driver.execute_script(MEASURE))
                load["ends"] = driver.execute_script(ENDS)
                load["focus"] = focus_rings() if page.get("focus", True) else []
                entry["loads"].append(load)
        results.append(entry)
finally:
    driver.quit()
print(json.dumps(results, ensure_ascii=False))
