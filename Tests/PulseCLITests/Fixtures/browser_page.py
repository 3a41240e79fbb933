#!/usr/bin/env python3
"""Opens a local HTML file in headless Chromium (Selenium and chromedriver), saves a
screenshot of the whole page and prints a JSON report of what rendered: the title, the
visible text, each inline SVG's drawn size and marks, requests the page tried to make,
and console errors.

Usage: browser_page.py FILE.html SCREENSHOT.png [WIDTH]"""
import json, sys
from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service

page, shot = sys.argv[1], sys.argv[2]
width = int(sys.argv[3]) if len(sys.argv) > 3 else 1000
options = Options()
for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", f"--window-size={width},900",
            "--lang=en-US", "--hide-scrollbars"):
    options.add_argument(arg)
options.binary_location = "/usr/bin/chromium"
options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
try:
    driver.get("file://" + page)
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(width, min(max(height + 40, 600), 6000))
    report = {
        "title": driver.title,
        "text": driver.execute_script("return document.body.innerText"),
        "svgs": driver.execute_script("""
            return [...document.querySelectorAll('svg')].map(s => {
              const r = s.getBoundingClientRect();
              return {width: r.width, height: r.height,
                      marks: s.querySelectorAll('circle, rect, polyline, polygon').length};
            });"""),
        "scripts": driver.execute_script("return document.scripts.length"),
        "requests": [e["message"] for e in driver.get_log("performance")
                     if '"Network.requestWillBeSent"' in e["message"] and '"url":"file://' not in e["message"]],
        "console_errors": [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"],
    }
    driver.save_screenshot(shot)
    print(json.dumps(report))
finally:
    driver.quit()
