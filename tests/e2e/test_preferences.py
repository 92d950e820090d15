"""Language and theme, switched with the form in every page's footer.

The Chinese catalog may still be incomplete, so these tests look at the ``<html lang>``
attribute, the selected options and the stylesheet, never at translated text.
"""

import pytest

pytestmark = pytest.mark.e2e

PREFS = "footer form.prefs"


def lang(page) -> str:
    return page.locator("html").get_attribute("lang")


def switch(page, e2e, **choices) -> None:
    for name, value in choices.items():
        page.locator(f"{PREFS} select[name={name}]").select_option(value)
    e2e.submit(page, PREFS)


def stylesheet(page) -> str:
    return page.locator("link[rel=stylesheet]").first.get_attribute("href")


def test_chinese_is_the_default_and_the_language_can_be_switched(new_page, live_server, e2e):
    page = new_page(live_server, locale="fr-FR")  # a browser asking for no language we have
    page.goto("/login")
    assert lang(page) == "zh-CN"
    assert page.locator(f"{PREFS} select[name=locale]").input_value() == "zh_CN"

    switch(page, e2e, locale="en")
    assert page.url.endswith("/login")  # back on the page the form was sent from
    assert lang(page) == "en"
    assert page.locator(f"{PREFS} select[name=locale]").input_value() == "en"
    page.goto("/login")  # kept for the visit
    assert lang(page) == "en"

    switch(page, e2e, locale="zh_CN")
    assert lang(page) == "zh-CN"
    assert page.locator(f"{PREFS} select[name=locale]").input_value() == "zh_CN"


def test_browser_language_is_followed_until_the_person_chooses(new_page, live_server, e2e):
    page = new_page(live_server, locale="en-GB")
    page.goto("/login")
    assert lang(page) == "en"
    switch(page, e2e, locale="zh_CN")
    assert lang(page) == "zh-CN"


def test_large_theme_switches_the_stylesheet(new_page, live_server, e2e):
    page = new_page(live_server)
    page.goto("/login")
    assert stylesheet(page).startswith("/static/core/css/portal.")
    assert page.locator(f"{PREFS} select[name=theme]").input_value() == "default"

    switch(page, e2e, theme="large")
    assert page.url.endswith("/login")
    href = stylesheet(page)
    assert href.startswith("/static/theme-large/core/css/portal.")
    assert page.request.get(href).status == 200
    assert page.locator(f"{PREFS} select[name=theme]").input_value() == "large"
    assert "theme-large" in page.locator("body").get_attribute("class")
    page.goto("/login")  # kept for the visit
    assert stylesheet(page) == href

    switch(page, e2e, theme="default")
    assert stylesheet(page).startswith("/static/core/css/portal.")


def test_the_browser_applies_the_stylesheets_and_runs_the_scripts(new_page, live_server, e2e):
    """Chromium refuses a stylesheet or script served with a wrong type (nosniff): a person would see bare HTML."""
    page = new_page(live_server)
    refused = []
    page.on("console", lambda message: refused.append(message.text) if "Refused" in message.text else None)
    page.goto("/login")
    default_size = page.evaluate("getComputedStyle(document.documentElement).fontSize")
    switch(page, e2e, theme="large")
    assert page.evaluate("getComputedStyle(document.documentElement).fontSize") == "22px" != default_size
    assert page.evaluate("typeof window.htmx") == "object"
    assert refused == []


def test_preferences_stay_with_the_account(new_page, live_server, demo_accounts, e2e):
    account = demo_accounts[e2e.ACCOUNT_OF["preferences_on_account"]]
    page = new_page(live_server, locale="zh-CN")
    e2e.log_in(page, account)
    assert lang(page) == "zh-CN"
    switch(page, e2e, locale="en", theme="large")
    assert page.url.endswith("/")
    assert lang(page) == "en"
    assert stylesheet(page).startswith("/static/theme-large/")

    # Another browser asking for Chinese: once logged in, the account's choice wins. (A recovery
    # code for the second login: the TOTP code of this time step is used up.)
    other = new_page(live_server, locale="zh-CN")
    other.goto("/login")
    assert lang(other) == "zh-CN"
    e2e.enter_password(other, account["username"], account["password"])
    other.goto("/login/recovery")
    other.fill("#code", account["recovery_codes"][0])
    e2e.submit(other)
    assert other.url.endswith("/")
    assert lang(other) == "en"
    assert stylesheet(other).startswith("/static/theme-large/")
