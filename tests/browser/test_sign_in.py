"""Signing in and out in Chromium: keyboard only, deep links, CSRF, error pages."""
from __future__ import annotations

import requests


def test_each_role_lands_on_its_start_page_keyboard_only(page, sign_in, axe_check):
    page.goto("/sign-in")
    axe_check(page, "sign-in page")
    sign_in(page, "front_desk")
    assert "/calendar" in page.url and "view=day" in page.url
    # Signed in, the sign-in page itself sends us on to the start page.
    page.goto("/sign-in")
    assert "/calendar" in page.url


def test_clinician_starts_on_their_week(browser, live_server, sign_in):
    ctx = browser.new_context(base_url=live_server.url)
    pg = ctx.new_page()
    sign_in(pg, "clinician")
    assert "/calendar" in pg.url and "view=week" in pg.url
    ctx.close()


def test_signed_out_deep_link_comes_back_after_sign_in(page, live_server):
    page.goto("/clients?q=Mor")
    assert "/sign-in" in page.url
    page.locator("#email").fill("frontdesk@demo.practice")
    page.locator("#password").fill("demo-frontdesk-1")
    page.keyboard.press("Enter")
    page.wait_for_url("**/clients?q=Mor")
    assert page.url == live_server.url + "/clients?q=Mor"


def test_wrong_password_says_so_and_keeps_the_email(page, axe_check):
    page.goto("/sign-in")
    page.locator("#email").fill("frontdesk@demo.practice")
    page.locator("#password").fill("not the password")
    page.keyboard.press("Enter")
    page.wait_for_selector("#sign-in-error")
    assert page.locator("#email").input_value() == "frontdesk@demo.practice"
    axe_check(page, "sign-in with an error")


def test_a_form_without_its_csrf_token_is_refused(page, sign_in):
    page.goto("/sign-in")
    page.evaluate("document.querySelector('input[name=csrf_token]').remove()")
    page.locator("#email").fill("frontdesk@demo.practice")
    page.locator("#password").fill("demo-frontdesk-1")
    page.keyboard.press("Enter")
    page.wait_for_selector("h1")
    assert "security token" in page.content()
    # Not signed in: a page still sends us to the sign-in form.
    page.goto("/calendar")
    assert "/sign-in" in page.url


def test_sign_out_ends_the_session(page, sign_in):
    sign_in(page, "front_desk")
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/sign-in")
    page.goto("/calendar")
    assert "/sign-in" in page.url


def test_error_pages_are_html_and_the_api_keeps_json(page, sign_in, live_server, axe_check):
    sign_in(page, "front_desk")
    resp = page.goto("/no-such-page")
    assert resp.status == 404 and "Page not found" in page.content()
    axe_check(page, "404 page")
    r = requests.get(live_server.url + "/api/no-such-thing", timeout=10)
    assert r.status_code == 404 and r.json()["error"] == "not_found"


def test_the_session_cookie_is_httponly_and_lax(page, sign_in):
    sign_in(page, "front_desk")
    cookie = next(c for c in page.context.cookies() if c["name"] == "session")
    assert cookie["httpOnly"] is True
    assert cookie["sameSite"] == "Lax"
    assert page.evaluate("document.cookie").find("session=") == -1
