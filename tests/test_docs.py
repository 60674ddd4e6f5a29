"""`make docs` offline, checked in headless Chromium as a reader would see it."""
import os, re, shutil, subprocess, sys, tempfile
from pathlib import Path
import pytest

pytestmark = pytest.mark.xdist_group("docs")   # one worker builds the site once for every test here

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = shutil.which('chromium') or shutil.which('chromium-browser')
SHOTS = ROOT/'outputs'/'test-screenshots'


def chromium(*args, timeout=120):
    flags = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
             '--disable-sync', '--no-first-run', '--disable-quic', f'--user-data-dir={tempfile.mkdtemp()}', '--virtual-time-budget=5000']
    return subprocess.run([CHROMIUM, *flags, *args], capture_output=True, text=True, timeout=timeout)


def fake_snapshot(tmp):
    "A results snapshot made by the real code from two tiny runs, for a checkout that has none committed yet."
    import matplotlib; matplotlib.use('agg')
    import matplotlib.pyplot as plt
    from rai_papers.results import ExperimentRun, snapshot_results
    for exp, recs in (('albar', [('main', 'Vanilla', 'synthvid', 'scufo_top1', 40.0), ('main', 'ALBAR', 'synthvid', 'scufo_top1', 20.0)]),
                      ('rai_kpis', [('kpis', 'LogisticRegression', 'german', 'accuracy', 0.7)])):
        run = ExperimentRun(exp, 'smoke', 0, tmp/'out'/exp/'r1')
        for r in recs: run.log(*r)
        if exp == 'rai_kpis':
            fig, ax = plt.subplots(); ax.imshow([[0, 1], [1, 0]]); run.save_figure(fig, 'scorecard'); plt.close(fig)
        run.finish(); (tmp/'out'/exp/'latest').symlink_to('r1')
    return snapshot_results(tmp/'out', tmp/'results')


@pytest.fixture(scope='module')
def site(tmp_path_factory):
    if not CHROMIUM:
        if os.environ.get('CI'): pytest.fail('chromium is missing: .ci/run installs Debian\'s chromium package')
        pytest.skip('chromium is not installed (apt-get install chromium)')
    out = tmp_path_factory.mktemp('docs')
    env = {**os.environ, 'OMP_NUM_THREADS': '1'}
    if not (ROOT/'results'/'SNAPSHOT.json').exists(): env['RAI_PAPERS_RESULTS'] = str(fake_snapshot(tmp_path_factory.mktemp('snap')))
    r = subprocess.run([sys.executable, ROOT/'tools'/'render_docs.py', '--out', out], capture_output=True, text=True,
                       timeout=900, cwd=ROOT, env=env)
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


def test_landing_page_shows_snapshot_scorecard_and_report(site):
    "The scorecard figure and the report come from the results snapshot, copied beside the pages so the links work offline."
    dom = chromium('--dump-dom', f'file://{site}/index.html').stdout
    img = re.search(r'<img[^>]+src="([^"]*scorecard\.png)"', dom)
    assert img and (site/img[1]).is_file(), 'the landing page shows no scorecard figure'
    link = re.search(r'<a[^>]+href="([^"]*report\.html)"', dom)
    assert link and (site/link[1]).is_file(), 'the landing page has no working link to the report'
    report = chromium('--dump-dom', f'file://{site/link[1]}').stdout
    assert 'Paper claims at a glance' in report
    for page in re.findall(r'href="(report/[\w-]+\.html)"', report): assert (site/link[1]).parent.joinpath(page).is_file(), page
    assert re.search(r'from the results snapshot in <code>[^<]+</code>, written on', dom)   # its date and scale are shown
    assert 'smoke scale' in dom or 'paper scale' in dom


def test_paper_page_shows_reproduced_table(site):
    "A paper page ends with 'Reproduced results': its run beside the paper-reported numbers, the scale in the column names."
    dom = chromium('--dump-dom', f'file://{site}/albar.html').stdout
    section = dom[dom.index('id="Reproduced-results"'):]
    table = re.search(r'<table.*?</table>', section, re.S)
    assert table, 'no reproduced table on the ALBAR page'
    assert re.search(r'scufo_top1<br>\s*ours \((smoke|paper)\)', table[0]) and 'paper-reported' in table[0]
    assert re.search(r'<td[^>]*>\s*hmdb51', table[0])          # the paper's own rows are there too
    SHOTS.mkdir(parents=True, exist_ok=True)
    shot = chromium('--window-size=1200,1400', f'--screenshot={SHOTS}/albar_report.png', f'file://{site}/results/report/albar.html')
    assert shot.returncode == 0


def test_every_page_renders_and_links_resolve(site):
    pages = sorted(site.glob('*.html'))
    expected = {'index', 'core', 'results', 'cli', 'card-digits', 'safer_clip', 'albar', 'tedspad', 'aam', 'implicitqa', 'kpis', 'paper_scale'}
    assert {f'{n}.html' for n in expected} <= {p.name for p in pages}
    for page in pages:
        text = page.read_text()
        assert '<h1' in text, page.name
        for target in re.findall(r'<a\s[^>]*href="([^"#:]+\.html)(?:#[^"]*)?"', text):   # real links, not code that mentions one
            assert (site/target).exists(), f'{page.name} links to missing {target}'
