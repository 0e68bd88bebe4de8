"""Browser tests (Chromium through Playwright); a package so its module names never clash with tests/."""
