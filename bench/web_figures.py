"""The web app's figures (issue 13), measured as tests/e2e/test_web_app.py measures them:

1. the bundle: every JS and CSS chunk of web/dist/assets gzipped (level 9), and their sum
   (target <= 400 KB);
2. first render of the runs page on the embedded stack: from navigation start to the frame
   after the runs table (or its empty state) is in the DOM, median of `--loads` loads
   (target <= 1 s);
3. a live run's events on the page: a run of an agent whose model streams 16 words, one a
   delta, followed on its page; a raw EventSource opened in the same page stamps when each
   delta's data arrives, a MutationObserver when its word shows in the DOM (p50 and max,
   target <= 100 ms).

2 and 3 build the app (`make web`), start `orch up` on free ports in a temporary directory (its
own databases and .orch/), a fake OpenAI-wire model server, and Debian's chromium headless
through Playwright, at 1280x800.

    python bench/web_figures.py             # all three
    python bench/web_figures.py --bundle    # 1 only: no stack, no browser
"""

from __future__ import annotations

import argparse
import asyncio
import re
import statistics
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.support.web import (  # noqa: E402
    CHROMIUM,
    CHROMIUM_ARGS,
    DIST,
    SIZES,
    build_web,
    bundle_report,
    event_latency,
    latency_summary,
    missing_tools,
    orch_up,
    runs_first_render,
)


async def live(loads: int) -> None:
    from playwright.async_api import async_playwright

    with tempfile.TemporaryDirectory(prefix="orch-web-figures-") as home:
        with orch_up(Path(home)) as stack:
            print(f"orch up ready in {stack.started_in_s:.1f} s")
            async with async_playwright() as pw:
                browser = await pw.chromium.launch(
                    executable_path=str(CHROMIUM), args=CHROMIUM_ARGS
                )
                try:
                    context = await browser.new_context(
                        viewport=SIZES["desktop"], base_url=stack.base_url
                    )
                    page = await context.new_page()
                    await page.goto(stack.sign_in_link)
                    await page.wait_for_url(re.compile(r"/ui/?$"), timeout=15_000)
                    await page.close()
                    with stack.http() as http:  # one run, so the list is not empty
                        http.post("/v1/runs", json={"agent": "demo", "input": "What is 12*7?"})
                    renders = await runs_first_render(context, stack.base_url, loads)
                    print(
                        f"runs page first render: median {statistics.median(renders):.0f} ms "
                        f"of {len(renders)} loads ({', '.join(f'{t:.0f}' for t in renders)}) "
                        "(target <= 1000 ms)"
                    )
                    state = await event_latency(context, stack)
                    print(latency_summary(state)[1])
                finally:
                    await browser.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bundle", action="store_true", help="the bundle size only")
    parser.add_argument("--loads", type=int, default=5, help="loads of the runs page")
    args = parser.parse_args()
    if not args.bundle:
        reason = missing_tools()
        if reason is not None:
            sys.exit(f"cannot measure in a browser: {reason} (--bundle needs none of it)")
        print(f"make web: {build_web():.1f} s")
    if not (DIST / "assets").is_dir():
        sys.exit("no web/dist/assets: run `make web` first")
    for line in bundle_report()[1]:
        print(line)
    if not args.bundle:
        asyncio.run(live(args.loads))


if __name__ == "__main__":
    main()
