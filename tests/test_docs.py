"""`make docs` offline, checked in headless Chromium as a reader would see it."""
import os, re, shutil, subprocess, sys, tempfile
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = shutil.which('chromium') or shutil.which('chromium-browser')
SHOTS = ROOT/'outputs'/'test-screenshots'


def chromium(*args, timeout=120):
    flags = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
             '--disable-sync', '--no-first-run', '--disable-quic', f'--user-data-dir={tempfile.mkdtemp()}', '--virtual-time-budget=5000']
    return subprocess.run([CHROMIUM, *flags, *args], capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope='module')
def site(tmp_path_factory):
    if not CHROMIUM:
        if os.environ.get('CI'): pytest.fail('chromium is missing: .ci/run installs Debian\'s chromium package')
        pytest.skip('chromium is not installed (apt-get install chromium)')
    out = tmp_path_factory.mktemp('docs')
    r = subprocess.run([sys.executable, ROOT/'tools'/'render_docs.py', '--out', out], capture_output=True, text=True,
                       timeout=600, cwd=ROOT, env={**os.environ, 'OMP_NUM_THREADS': '1'})
    assert r.returncode == 0, r.stderr[-3000:]
    return out


def test_index_renders_with_title_and_figure(site):
    dom = chromium('--dump-dom', f'file://{site}/index.html')
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert re.search(r'<h1[^>]*>rai-papers', dom.stdout)
    assert re.search(r'<img[^>]+src="data:image/png;base64,', dom.stdout)       # the pipeline figure
    assert 'href="core.html"' in dom.stdout                                       # the sidebar
    SHOTS.mkdir(parents=True, exist_ok=True)
    for page in ('index', 'safer_clip'):   # the landing page and one paper page, kept for review
        shot = chromium('--window-size=1200,1400', f'--screenshot={SHOTS/page}.png', f'file://{site}/{page}.html')
        assert shot.returncode == 0 and (SHOTS/f'{page}.png').stat().st_size > 10_000


def test_every_page_renders_and_links_resolve(site):
    pages = sorted(site.glob('*.html'))
    expected = {'index', 'core', 'results', 'cli', 'card-digits', 'safer_clip', 'albar', 'tedspad', 'aam', 'implicitqa', 'kpis', 'paper_scale'}
    assert {f'{n}.html' for n in expected} <= {p.name for p in pages}
    for page in pages:
        text = page.read_text()
        assert '<h1' in text, page.name
        for target in re.findall(r'<a\s[^>]*href="([^"#:]+\.html)(?:#[^"]*)?"', text):   # real links, not code that mentions one
            assert (site/target).exists(), f'{page.name} links to missing {target}'
