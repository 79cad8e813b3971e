"""The coding app in a real browser: Debian's headless Chromium driven by Selenium.

The driver and browser are the system's (``/usr/bin/chromedriver``, ``/usr/bin/chromium``), given
explicitly so Selenium Manager never downloads anything; the tests skip with the reason when
either (or selenium) is missing. Screenshots of the coding and adjudication pages are written to
``tmp_path`` and copied to ``$EDUDIAL_APP_SCREENSHOTS`` when that is set.
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from annotation.rubric import load_rubric
from tests.app_support import XSS, Server, small_corpus, write_rubric
from toolkit.app import SessionOptions, open_session
from toolkit.app.serving import ServeOptions, bind, urls
from toolkit.app.store import Store

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--window-size=1280,900",
)
LABELS = ["focus", "probing", "telling", "generic"]


def _require_browser() -> Any:
    try:
        from selenium import webdriver
    except ImportError:
        pytest.skip("selenium is not installed (pip install -e '.[dev]')")
    for path in (CHROMIUM, CHROMEDRIVER):
        if not path.exists():
            pytest.skip(f"{path} not found: install Debian's chromium and chromium-driver")
    return webdriver


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    webdriver = _require_browser()
    os.environ.setdefault("SE_OFFLINE", "true")  # Selenium Manager: never go online
    opts = webdriver.ChromeOptions()
    opts.binary_location = str(CHROMIUM)
    for flag in FLAGS:
        opts.add_argument(flag)
    opts.add_argument(f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}")
    service = webdriver.ChromeService(executable_path=str(CHROMEDRIVER))
    try:
        driver = webdriver.Chrome(options=opts, service=service)
    except Exception as exc:  # a broken browser install is a skip, with the reason
        pytest.skip(f"Chromium could not start: {type(exc).__name__}: {exc}".splitlines()[0])
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()


def _screenshot(driver: Any, path: Path) -> None:
    driver.save_screenshot(str(path))
    assert path.stat().st_size > 1000
    where = os.environ.get("EDUDIAL_APP_SCREENSHOTS")
    if where:
        Path(where).mkdir(parents=True, exist_ok=True)
        shutil.copy(path, Path(where) / path.name)


def _press(driver: Any, keys: str, *, leaves: bool = True) -> None:
    """Type ``keys`` on the page; wait for the next page when the key submits."""
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.support.ui import WebDriverWait

    # the page takes keys once it has been shown (app.js marks the body data-ready)
    WebDriverWait(driver, 20).until(
        lambda d: d.execute_script("return document.body.dataset.ready === '1'")
    )
    old = driver.find_element("tag name", "html")
    ActionChains(driver).send_keys(keys).perform()
    if leaves:
        WebDriverWait(driver, 20).until(lambda d: _gone(old))


def _gone(element: Any) -> bool:
    """Whether ``element``'s document has been replaced by the next page.

    While a navigation is under way, Chromium's driver may answer "Node with given id does not
    belong to the document" instead of a stale-element error: the old document is gone too.
    """
    from selenium.common.exceptions import StaleElementReferenceException, WebDriverException

    try:
        element.is_enabled()
    except StaleElementReferenceException:
        return True
    except WebDriverException as exc:
        if "does not belong to the document" in str(exc):
            return True
        raise
    return False


def _target(driver: Any) -> str:
    return str(driver.find_element("css selector", "#target .text").text)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _answers(store: Path, coder: str) -> dict[str, str]:
    st = Store(store)
    try:
        return {a.unit_id: a.label for a in st.done_answers() if a.coder == coder}
    finally:
        st.close()


def test_ten_units_by_keyboard_with_reload_and_kill_9(browser: Any, tmp_path: Path) -> None:
    corpus_dir = small_corpus().save(tmp_path / "toy.corpus")
    store = tmp_path / "lab.sqlite"
    port = str(_free_port())
    rubric = str(write_rubric(tmp_path))
    args = [str(corpus_dir), "--rubric", rubric, "--store", str(store), "--port", port]
    server = Server([*args, "--coders", "ana,ben"], tmp_path).start()
    pressed: dict[str, str] = {}
    try:
        browser.get(server.urls["ana"])
        assert browser.current_url.endswith("/code/ana/1")
        for n in range(1, 6):
            unit = browser.find_element("name", "unit").get_attribute("value")
            key = str(n % 4 + 1)
            if n == 2:  # a note typed with the keyboard goes with the label
                _press(browser, "n", leaves=False)
                _press(browser, "checked twice", leaves=False)
                from selenium.webdriver.common.keys import Keys

                _press(browser, Keys.ESCAPE, leaves=False)
            _press(browser, key)
            pressed[unit] = LABELS[int(key) - 1]
        browser.refresh()  # reload mid-way: same unit, same progress
        assert browser.current_url.endswith("/code/ana/6")
        assert "5/24 coded" in browser.find_element("css selector", ".count").text
        _screenshot(browser, tmp_path / "coding-page.png")
    finally:
        server.kill9()
    again = Server(args, tmp_path).start()
    try:
        browser.get(again.urls["ana"])  # the bookmark still works and continues at unit 6
        assert browser.current_url.endswith("/code/ana/6")
        for n in range(6, 11):
            unit = browser.find_element("name", "unit").get_attribute("value")
            key = str(n % 4 + 1)
            _press(browser, key)
            pressed[unit] = LABELS[int(key) - 1]
        _press(browser, "\ue012")  # ArrowLeft: back to unit 10, shown with its label chosen
        assert browser.current_url.endswith("/code/ana/10")
        chosen = browser.find_element("css selector", "button.option.chosen").text
        assert chosen.split()[-1].lower() == pressed[unit]
    finally:
        again.stop()
    assert _answers(store, "ana") == pressed and len(pressed) == 10
    st = Store(store)
    notes = [a.notes for a in st.done_answers() if a.notes]
    st.close()
    assert notes == ["checked twice"]


@pytest.fixture()
def live(tmp_path: Path) -> Iterator[tuple[Any, dict[str, str]]]:
    """An in-process server (no restart needed here) on a 3-dialogue corpus, 6 units."""
    corpus = small_corpus(n_dialogues=3)
    session = open_session(
        corpus,
        load_rubric(write_rubric(tmp_path)),
        tmp_path / "lab.sqlite",
        SessionOptions(coders=["ana", "ben"], seed=5),
    )
    server = bind(session, ServeOptions(port=0))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield session, urls(session, server, "127.0.0.1")
    finally:
        server.shutdown()
        server.server_close()
        session.store.close()


def test_two_coders_at_once_then_adjudicate_by_keyboard(
    browser: Any, live: tuple[Any, dict[str, str]], tmp_path: Path
) -> None:
    session, addresses = live
    browser.get(addresses["ana"])
    ana_tab = browser.current_window_handle
    browser.switch_to.new_window("tab")
    browser.get(addresses["ben"])
    ben_tab = browser.current_window_handle
    differ = set()
    for _ in range(6):  # the two coders alternate, each in their own tab
        browser.switch_to.window(ana_tab)
        _press(browser, "1")
        browser.switch_to.window(ben_tab)
        unit = browser.find_element("name", "unit").get_attribute("value")
        key = "2" if len(differ) < 3 else "1"
        differ.update({unit} if key == "2" else set())
        _press(browser, key)
    assert session.store.progress("ana") == (6, 6) == session.store.progress("ben")
    browser.close()
    browser.switch_to.window(ana_tab)
    browser.get(addresses["lead"])
    assert "3 unit(s) waiting for a decision" in browser.page_source
    assert "cohen_kappa" in browser.find_element("id", "panel").text
    browser.find_element("id", "adjudicate-link").click()
    seen = set()
    for i in range(3):
        seen.add(browser.find_element("name", "unit").get_attribute("value"))
        text = browser.find_element("css selector", "fieldset.question").text
        assert "ana: focus" in text and "ben: probing" in text
        if i == 0:
            _screenshot(browser, tmp_path / "adjudication-page.png")
        _press(browser, "3")
    assert seen == differ
    decided = session.store.adjudications()
    assert {k[1] for (k, _) in decided} == differ
    assert {v for v, _ in decided.values()} == {"telling"}


def test_a_script_turn_is_shown_as_text(browser: Any, live: tuple[Any, dict[str, str]]) -> None:
    session, addresses = live
    n = session.order["ana"].index(("toy", "d000:2")) + 1
    browser.get(addresses["ana"].rsplit("/", 1)[0] + f"/ana/{n}")
    turns = browser.find_element("css selector", ".turns").text
    assert XSS in turns  # the payload is visible as text...
    assert browser.title.startswith("ana ·")  # ...and never ran
    assert browser.find_elements("css selector", ".turns script, .turns img") == []
    assert _target(browser).startswith("teacher turn 2")


def _eventually(check: Any, timeout: float = 5.0) -> bool:
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.05)
    return bool(check())


def _hold(driver: Any, key: str, seconds: float) -> None:
    """Hold ``key`` down: one keydown, then the auto-repeat keydowns an OS sends (10 a second)."""
    import time

    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(driver, 20).until(
        lambda d: d.execute_script("return document.body.dataset.ready === '1'")
    )
    down = {
        "type": "keyDown",
        "key": key,
        "code": f"Digit{key}",
        "text": key,
        "windowsVirtualKeyCode": ord(key),
        "nativeVirtualKeyCode": ord(key),
    }
    driver.execute_cdp_cmd("Input.dispatchKeyEvent", down)
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        time.sleep(0.1)
        driver.execute_cdp_cmd("Input.dispatchKeyEvent", {**down, "autoRepeat": True})
    up = {k: v for k, v in down.items() if k != "text"}
    driver.execute_cdp_cmd("Input.dispatchKeyEvent", {**up, "type": "keyUp"})


def test_holding_a_key_codes_one_unit(browser: Any, live: tuple[Any, dict[str, str]]) -> None:
    session, addresses = live
    browser.get(addresses["ana"])
    first = browser.find_element("name", "unit").get_attribute("value")
    _hold(browser, "2", 1.5)
    assert _eventually(lambda: session.store.progress("ana")[0] > 0)
    answers = {a.unit_id: a.label for a in session.store.done_answers() if a.coder == "ana"}
    assert answers == {first: LABELS[1]}  # the units shown after the first one stay uncoded
    assert browser.current_url.endswith("/code/ana/2")


def test_a_typed_note_survives_a_reload(browser: Any, live: tuple[Any, dict[str, str]]) -> None:
    from selenium.webdriver.common.keys import Keys

    session, addresses = live
    notes = {n: session.store.state("ana", session.order["ana"][n - 1]).notes for n in (1, 2)}
    assert notes == {1: "", 2: ""}
    browser.get(addresses["ana"])
    _press(browser, "n", leaves=False)
    _press(browser, "typed, then a pause", leaves=False)  # saved as typed (debounced)
    key = session.order["ana"][0]
    assert _eventually(lambda: session.store.state("ana", key).notes == "typed, then a pause")
    browser.refresh()
    assert browser.find_element("id", "notes").get_attribute("value") == "typed, then a pause"
    browser.get(addresses["ana"].rsplit("/", 1)[0] + "/ana/2")
    _press(browser, "n", leaves=False)
    _press(browser, "typed, then Esc", leaves=False)
    _press(browser, Keys.ESCAPE, leaves=False)  # leaving the field saves it
    key = session.order["ana"][1]
    assert _eventually(lambda: session.store.state("ana", key).notes == "typed, then Esc")
    browser.refresh()
    assert browser.find_element("id", "notes").get_attribute("value") == "typed, then Esc"
    assert session.store.progress("ana") == (0, 6)  # a note is not a label
