"""The patient chat page (patient_bridge/web/) in headless Chromium, served by the real
tandem-bridge with the offline companion: redeem an invite, send, see the reply, send a risky
message and see the crisis banner with 988. Phone-sized (390x844).

Set TANDEM_E2E_SCREENSHOT=path.png to save the final screen (docs/screenshots/chat-page.png is
made this way) and TANDEM_E2E_TREND_SCREENSHOT=path.png for the trend chart. Skips when chromium
or chromedriver is missing.
"""
import os
import shutil
import tempfile
import unittest

from harness import Bridge
from clinician import Clinician

try:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait
except ImportError:  # python3-selenium missing: the skip below says so
    webdriver = None

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
IMMINENT = "I want to kill myself tonight. I have the pills ready."
PASSWORD = "clinician-password-1"


@unittest.skipUnless(webdriver and os.path.exists(CHROMIUM) and os.path.exists(CHROMEDRIVER),
                     "needs python3-selenium, chromium and chromium-driver")
class ChatPageTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.bridge = Bridge()  # offline companion
        cls.bridge.add_clinician("tara", "therapist", PASSWORD)
        cls.code = cls.bridge.invite(cls.bridge.add_patient("Alex"))
        cls.bridge.start()
        cls.profile = tempfile.mkdtemp(prefix="tandem-chromium-")
        o = webdriver.ChromeOptions()
        o.binary_location = CHROMIUM
        for arg in ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                    "--disable-background-networking", "--disable-component-update", "--disable-sync",
                    "--disable-dev-shm-usage", f"--user-data-dir={cls.profile}", "--window-size=390,844",
                    # Only the bridge's own self-signed certificate is presented here (127.0.0.1).
                    "--ignore-certificate-errors"]:
            o.add_argument(arg)
        cls.driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=o)
        # Headless windows have a minimum width (about 500 px), so the phone's viewport is
        # emulated instead: 390x844 CSS pixels, a touch device.
        cls.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                                   {"width": 390, "height": 844, "deviceScaleFactor": 1, "mobile": True})
        cls.driver.set_page_load_timeout(20)

    @classmethod
    def tearDownClass(cls):
        cls.driver.quit()
        cls.bridge.close()
        shutil.rmtree(cls.profile, ignore_errors=True)

    def wait(self, condition, timeout=15):
        return WebDriverWait(self.driver, timeout).until(condition)

    def send(self, text):
        box = self.driver.find_element(By.ID, "text")
        box.send_keys(text)
        self.driver.find_element(By.CSS_SELECTOR, "#send-form button").click()

    def test_redeem_send_reply_and_crisis_banner(self):
        """Tried: a wrong invite code first (the page says so and stays on the form)."""
        d = self.driver
        d.get(self.bridge.base_url + "/")
        self.wait(ec.visibility_of_element_located((By.ID, "invite")))
        d.find_element(By.ID, "invite").send_keys("00000-00000-00000-00000")
        d.find_element(By.CSS_SELECTOR, "#redeem-form button").click()
        self.wait(lambda _: d.find_element(By.ID, "redeem-error").text.strip() != "")
        self.assertFalse(d.find_element(By.ID, "chat").is_displayed())

        invite = d.find_element(By.ID, "invite")
        invite.clear()
        invite.send_keys(self.code)
        d.find_element(By.CSS_SELECTOR, "#redeem-form button").click()
        self.wait(ec.visibility_of_element_located((By.ID, "text")))

        self.send("I've been feeling anxious about work this week")
        reply = self.wait(ec.visibility_of_element_located((By.CSS_SELECTOR, "#messages li.ai")))
        self.assertIn("Offline companion", reply.text)
        # The reply streamed in segments; the final message replaced the streaming bubble.
        self.wait(lambda _: not d.find_elements(By.CSS_SELECTOR, "#messages li.streaming"))
        self.assertEqual(len(d.find_elements(By.CSS_SELECTOR, "#messages li.ai")), 1)
        self.wait(lambda _: "Delivered" in d.find_element(By.CSS_SELECTOR, "#messages li.patient").text)

        self.send(IMMINENT)
        banner = self.wait(ec.visibility_of_element_located((By.ID, "crisis")))
        self.assertIn("988", banner.text)
        self.assertIn("911", banner.text)
        links = [a.get_attribute("href") for a in banner.find_elements(By.TAG_NAME, "a")]
        self.assertIn("tel:988", links)

        # A reload resumes with the stored device token: the banner and the history come back.
        d.refresh()
        self.wait(ec.visibility_of_element_located((By.ID, "crisis")))
        self.wait(lambda _: len(d.find_elements(By.CSS_SELECTOR, "#messages li.ai")) >= 1)
        self.assertFalse(d.find_element(By.ID, "redeem").is_displayed())

        if os.environ.get("TANDEM_E2E_SCREENSHOT"):
            d.save_screenshot(os.environ["TANDEM_E2E_SCREENSHOT"])
        viewport, width, wide = d.execute_script(
            "const w = document.documentElement.clientWidth;"
            "const wide = [...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > w + 1)"
            ".map(e => e.tagName + '#' + e.id + '.' + e.className).slice(0, 5);"
            "return [w, document.documentElement.scrollWidth, wide];")
        self.assertEqual(viewport, 390)
        self.assertLessEqual(width, viewport, f"no sideways scrolling on a phone-sized screen; too wide: {wide}")

    def test_questionnaire_form_saved_resumed_after_reload_and_submitted(self):
        """Issue 8: the intake GAD-7 as a form of radio buttons (answered with the keyboard),
        "Save and finish later", a reload brings the saved answers back, "Submit" shows the score."""
        d = self.driver
        code = self.bridge.invite(self.bridge.add_patient("Robin"))
        d.get(self.bridge.base_url + "/")
        d.execute_script("localStorage.clear()")
        try:
            d.refresh()
            self.wait(ec.visibility_of_element_located((By.ID, "invite")))
            d.find_element(By.ID, "invite").send_keys(code)
            d.find_element(By.CSS_SELECTOR, "#redeem-form button").click()

            def gad7_form():
                for f in d.find_elements(By.CSS_SELECTOR, "form.questionnaire"):
                    if len(f.find_elements(By.TAG_NAME, "fieldset")) == 7:
                        return f
                return None
            form = self.wait(lambda _: gad7_form())
            self.assertFalse(form.find_elements(By.CSS_SELECTOR, "textarea, input[type=text]"), "never free text")
            # Keyboard: focus the first question's first option, arrow to "Several days", space.
            first = form.find_elements(By.CSS_SELECTOR, "fieldset")[0].find_element(By.CSS_SELECTOR, "input")
            first.send_keys(" ")
            first.send_keys(Keys.ARROW_DOWN)
            for i in (1, 2):
                form.find_elements(By.CSS_SELECTOR, "fieldset")[i].find_elements(By.CSS_SELECTOR, "input")[1].click()
            form.find_element(By.XPATH, ".//button[contains(., 'Save and finish later')]").click()
            self.wait(lambda _: "Saved" in gad7_form().find_element(By.CSS_SELECTOR, ".q-status").text)

            d.refresh()  # a new sitting: the form comes back with the saved answers
            form = self.wait(lambda _: gad7_form())
            checked = [fs.find_element(By.CSS_SELECTOR, "input:checked").get_attribute("value")
                       if fs.find_elements(By.CSS_SELECTOR, "input:checked") else None
                       for fs in form.find_elements(By.CSS_SELECTOR, "fieldset")]
            self.assertEqual(checked, ["1", "1", "1", None, None, None, None])
            for fs in form.find_elements(By.CSS_SELECTOR, "fieldset")[3:]:
                fs.find_elements(By.CSS_SELECTOR, "input")[1].click()
            form.find_element(By.XPATH, ".//button[contains(., 'Submit')]").click()
            result = self.wait(ec.visibility_of_element_located((By.CSS_SELECTOR, ".q-result")))
            self.assertIn("score: 7", result.text)
            self.assertIn("Mild", result.text)
        finally:
            d.execute_script("localStorage.clear()")

    def test_own_trend_is_a_chart_with_band_shading_and_a_table_for_screen_readers(self):
        """Issue 8, with the clinic's share_trends_with_patients on: two GAD-7 results (the intake
        form, then one the therapist asks for) draw an inline SVG with the four GAD-7 bands, one
        line and a point per score (each with a <title>), plus a visually hidden table."""
        d = self.driver
        b = self.bridge
        b.run("policy", "set", "--data-dir", str(b.data_dir), "--share-trends", "yes")
        pid = b.add_patient("Kim")
        b.assign(pid, "tara")
        code = b.invite(pid)
        d.get(b.base_url + "/")
        d.execute_script("localStorage.clear()")
        try:
            d.refresh()
            self.wait(ec.visibility_of_element_located((By.ID, "invite")))
            d.find_element(By.ID, "invite").send_keys(code)
            d.find_element(By.CSS_SELECTOR, "#redeem-form button").click()

            def answer_gad7(option):
                def form():
                    for f in d.find_elements(By.CSS_SELECTOR, "form.questionnaire"):
                        if len(f.find_elements(By.TAG_NAME, "fieldset")) == 7:
                            return f
                    return None
                f = self.wait(lambda _: form())
                for fs in f.find_elements(By.CSS_SELECTOR, "fieldset"):
                    fs.find_elements(By.CSS_SELECTOR, "input")[option].click()
                f.find_element(By.XPATH, ".//button[contains(., 'Submit')]").click()

            answer_gad7(3)  # 21, severe
            self.wait(lambda _: d.find_elements(By.CSS_SELECTOR, ".q-result svg.q-chart"))
            tara = Clinician(b)
            tara.must_login("tara", PASSWORD)
            asked = tara.action("assessment_request", patient_id=pid, instrument="gad7")
            self.assertTrue(asked["ok"], asked)
            answer_gad7(1)  # 7, mild
            chart = self.wait(lambda _: [c for c in d.find_elements(By.CSS_SELECTOR, ".q-result svg.q-chart")
                                         if len(c.find_elements(By.CSS_SELECTOR, "circle.q-point")) == 2])[0]
            points = chart.find_elements(By.CSS_SELECTOR, "circle.q-point")
            self.assertEqual([p.get_attribute("data-score") for p in points], ["21", "7"])
            titles = [p.find_element(By.TAG_NAME, "title").get_attribute("textContent") for p in points]
            self.assertIn("GAD-7 21 (Severe)", titles[0])
            self.assertIn("GAD-7 7 (Mild)", titles[1])
            bands = [r.get_attribute("data-band") for r in chart.find_elements(By.CSS_SELECTOR, "rect.q-band")]
            self.assertEqual(bands, ["minimal", "mild", "moderate", "severe"])
            self.assertEqual(len(chart.find_elements(By.CSS_SELECTOR, "polyline.q-line")), 1)
            self.assertEqual(chart.get_attribute("role"), "img")
            self.assertIn("latest 7 (Mild)", chart.find_element(By.TAG_NAME, "desc").get_attribute("textContent"))
            figure = chart.find_element(By.XPATH, "./..")
            rows = figure.find_elements(By.CSS_SELECTOR, "table tr")
            self.assertEqual([r.get_attribute("textContent")[10:] for r in rows[1:]], ["21Severe", "7Mild"])
            hidden = figure.find_element(By.CSS_SELECTOR, ".visually-hidden")
            self.assertTrue(hidden.find_elements(By.TAG_NAME, "table"))
            self.assertLessEqual(hidden.size["width"], 1, "the table is for screen readers only")
            if os.environ.get("TANDEM_E2E_TREND_SCREENSHOT"):
                # Scroll the questionnaires pane only (scrollIntoView would move the whole page).
                d.execute_script("const s = document.getElementById('questionnaires');"
                                 "s.scrollTop = s.scrollHeight;", chart)
                d.save_screenshot(os.environ["TANDEM_E2E_TREND_SCREENSHOT"])
        finally:
            d.execute_script("localStorage.clear()")


if __name__ == "__main__":
    unittest.main()
