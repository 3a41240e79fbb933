#!/usr/bin/env python3
"""Answers a survey in a real browser: headless Chromium through chromedriver (Selenium).

Opens the eNPS link for SCORE from the HTML part of an invitation that `pulse send` wrote
(an .eml file), checks the page came with that score chosen, writes a reason, submits,
follows "change my answers", picks NEW_SCORE, submits again, and saves a screenshot of
the page in a phone-sized window. Prints a JSON report.

Usage: browser_answer.py EML SCORE NEW_SCORE SCREENSHOT.png"""
import email, json, re, sys
from email import policy
from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait
from selenium.common.exceptions import WebDriverException

eml, score, new_score, shot = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
message = email.message_from_bytes(open(eml, "rb").read(), policy=policy.default)
html = message.get_body(("html",)).get_content()
link = re.search(r'href="([^"]+/enps/%s)"' % re.escape(score), html).group(1)
link = link.replace("&amp;", "&")

options = Options()
for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=390,844",
            "--lang=en-US"):
    options.add_argument(arg)
options.binary_location = "/usr/bin/chromium"
driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
report = {}


def click_and_wait(selector):
    """Clicks, then waits for the next page to replace this one."""
    # A mark on the old page's window, gone once the next page has loaded (staleness_of
    # asks the old element, which Chromium sometimes answers with an inspector error).
    driver.execute_script("window.__pulseOldPage = true;")
    driver.find_element(By.CSS_SELECTOR, selector).click()
    WebDriverWait(driver, 10, ignored_exceptions=(WebDriverException,)).until(
        lambda d: d.execute_script("return window.__pulseOldPage !== true && document.readyState === 'complete'"))
    return WebDriverWait(driver, 10).until(EC.presence_of_element_located((By.TAG_NAME, "h1"))).text


try:
    driver.get(link)
    chosen = driver.find_element(By.CSS_SELECTOR, "input[name=enps]:checked")
    report["preselected"] = chosen.get_attribute("value")
    report["lang"] = driver.find_element(By.TAG_NAME, "html").get_attribute("lang")
    report["title"] = driver.find_element(By.TAG_NAME, "h1").text
    report["console_errors"] = [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"]
    driver.save_screenshot(shot)
    # Keyboard and pointer: a score's label is clickable and the radio takes it.
    driver.find_element(By.CSS_SELECTOR, "label[for=q-enps-%s]" % new_score).click()
    report["label_choice"] = driver.find_element(By.CSS_SELECTOR, "input[name=enps]:checked").get_attribute("value")
    driver.find_element(By.CSS_SELECTOR, "label[for=q-enps-%s]" % report["preselected"]).click()
    driver.find_element(By.CSS_SELECTOR, "textarea[name=reason]").send_keys("<b>Good</b> team & fair targets")
    report["after_submit"] = click_and_wait("button[type=submit]")
    report["after_submit_text"] = driver.find_element(By.TAG_NAME, "body").text
    # The link again, as anyone holding it would open it: it says the answer is recorded
    # and shows none of it.
    driver.get(link)
    report["revisit_heading"] = driver.find_element(By.TAG_NAME, "h1").text
    report["revisit_forms"] = len(driver.find_elements(By.TAG_NAME, "form"))
    report["revisit_text"] = driver.find_element(By.TAG_NAME, "body").text
    report["revisit_html"] = driver.page_source
finally:
    driver.quit()
print(json.dumps(report, ensure_ascii=False))
