//! The dashboard in a real browser: a real dev node, Debian's headless Chromium loading `/`,
//! and checks on the rendered DOM (`--dump-dom`): the height shown is the node's, the charts
//! are SVG with data points, the latest blocks, the mempool and the lookup box work, and
//! nothing went to the console (the page's script also records its own errors and any
//! Content-Security-Policy violation in `<body data-errors>`).
//!
//! Chromium is required: without it these tests fail (CI installs it, see `.ci/run`).

use oxcoin::testkit::{account_of, key, transfer};
use oxcoin::{Address, Encode, Network};
use oxcoin_tests::NodeProcess;
use serde_json::json;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn address(seed: u8) -> String {
    Address::new(Network::Dev, account_of(&key(seed, 0))).to_string()
}

/// The Chromium binary: `$CHROMIUM`, or `chromium` / `chromium-browser` on the PATH.
fn chromium() -> PathBuf {
    if let Some(path) = std::env::var_os("CHROMIUM") {
        return PathBuf::from(path);
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    for dir in std::env::split_paths(&path) {
        for name in ["chromium", "chromium-browser"] {
            let candidate = dir.join(name);
            if candidate.is_file() {
                return candidate;
            }
        }
    }
    panic!(
        "Chromium is needed for the dashboard test and was not found (set CHROMIUM or install it: \
         apt-get install -y --no-install-recommends chromium)"
    );
}

/// What headless Chromium rendered and logged.
struct Rendered {
    dom: String,
    log: String,
}

impl Rendered {
    /// Console lines (`CONSOLE` entries and uncaught errors) from the browser's log.
    fn console_lines(&self) -> Vec<&str> {
        self.log.lines().filter(|l| l.contains(":CONSOLE") || l.contains("Uncaught")).collect()
    }

    /// The opening tag of the element with `id`.
    #[track_caller]
    fn tag(&self, id: &str) -> &str {
        let at = self.dom.find(&format!("id=\"{id}\"")).unwrap_or_else(|| panic!("no #{id} in the DOM:\n{}", self.dom));
        let start = self.dom[..at].rfind('<').expect("a tag start");
        let end = at + self.dom[at..].find('>').expect("a tag end");
        &self.dom[start..=end]
    }

    /// The markup of the element with `id` up to the matching close of its tag name (no nesting
    /// of the same tag name inside, which holds for the elements looked at here).
    #[track_caller]
    fn element(&self, id: &str) -> &str {
        let tag = self.tag(id);
        let name: String = tag[1..].chars().take_while(|c| c.is_ascii_alphanumeric()).collect();
        let start = self.dom.find(tag).expect("the tag");
        let end = start + self.dom[start..].find(&format!("</{name}>")).expect("a close tag") + name.len() + 3;
        &self.dom[start..end]
    }

    /// The text of the element with `id` (tags stripped).
    #[track_caller]
    fn text(&self, id: &str) -> String {
        let mut text = String::new();
        let mut in_tag = false;
        for c in self.element(id).chars() {
            match c {
                '<' => in_tag = true,
                '>' => in_tag = false,
                c if !in_tag => text.push(c),
                _ => {}
            }
        }
        text.trim().to_owned()
    }
}

/// The value of `attr` in a tag.
fn attr<'a>(tag: &'a str, attr: &str) -> Option<&'a str> {
    let key = format!(" {attr}=\"");
    let start = tag.find(&key)? + key.len();
    let end = start + tag[start..].find('"')?;
    Some(&tag[start..end])
}

/// Loads `url` in headless Chromium, lets the page run for a few seconds of virtual time, and
/// returns the DOM and the browser's log. Fails after two minutes of real time.
#[track_caller]
fn render(url: &str) -> Rendered {
    let profile = tempfile::tempdir().expect("a temp profile dir");
    let out = profile.path().join("dom.html");
    let err = profile.path().join("chromium.log");
    let mut child = Command::new(chromium())
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--no-default-browser-check",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-extensions",
            "--enable-logging=stderr",
            "--v=0",
            "--window-size=1280,900",
            "--virtual-time-budget=8000",
            "--dump-dom",
        ])
        .arg(format!("--user-data-dir={}", profile.path().join("profile").display()))
        .arg(url)
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&out).expect("the DOM file"))
        .stderr(std::fs::File::create(&err).expect("the log file"))
        .spawn()
        .unwrap_or_else(|e| panic!("Chromium does not start: {e}"));
    let deadline = Instant::now() + Duration::from_secs(120);
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for Chromium") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("Chromium did not finish within 2 minutes:\n{}", std::fs::read_to_string(&err).unwrap_or_default());
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let dom = std::fs::read_to_string(&out).expect("the DOM");
    let log = std::fs::read_to_string(&err).unwrap_or_default();
    assert!(status.success(), "Chromium failed ({status}):\n{log}");
    assert!(dom.contains("</html>"), "Chromium dumped no page:\n{log}");
    Rendered { dom, log }
}

/// Checks what every rendering must show: the script ran, found the node, and met no error.
#[track_caller]
fn assert_clean(page: &Rendered) {
    let body = page.dom.find("<body").map(|i| &page.dom[i..i + page.dom[i..].find('>').unwrap_or(0) + 1]).unwrap_or("");
    assert_eq!(attr(body, "data-errors"), Some(""), "the page's script recorded errors: {body}");
    assert_eq!(attr(body, "data-state"), Some("live"), "the page did not reach the node: {body}");
    let console = page.console_lines();
    assert!(console.is_empty(), "console output:\n{}", console.join("\n"));
}

#[test]
fn the_dashboard_renders_the_node_in_a_real_browser() {
    let dir = tempfile::tempdir().unwrap();
    let node = NodeProcess::start("dev", dir.path(), &["--no-mine"]);
    // Rewards of blocks 1..=7 to key 1; maturity 2 lets it spend block 1's reward at once.
    node.generate(7, &address(1));
    let t = transfer(Network::Dev.params(), &key(1, 0), account_of(&key(2, 0)), 3 * 100_000_000, 2_000, 0);
    let posted = node.post("/api/v1/txs", &json!({"raw_hex": t.encode_hex()}));
    assert_eq!(posted.status, 202, "{}", posted.body);
    let txid = posted.json["txid"].as_str().expect("a txid").to_owned();
    let status = node.get("/api/v1/status");
    let height = status.json["height"].as_u64().expect("a height");
    assert_eq!(height, 7);

    // The page, with a lookup of the pending transfer in its address.
    let page = render(&format!("http://{}/#q={txid}", node.addr));
    assert_clean(&page);
    assert_eq!(attr(page.tag("height"), "data-value"), Some(height.to_string().as_str()), "{}", page.tag("height"));
    assert_eq!(page.text("height"), height.to_string());
    assert_eq!(page.text("network"), "dev");
    assert_eq!(page.text("mempool-count"), "1");
    assert_ne!(page.text("since"), "—", "time since the last block");
    assert_ne!(page.text("hashrate-net"), "—", "a network hash rate estimate from the block intervals");
    // A lone node is neither syncing nor behind: the sync panel stays hidden.
    assert_eq!(status.json["syncing"], false, "{}", status.body);
    assert!(attr(page.tag("sync"), "hidden").is_some(), "{}", page.tag("sync"));

    // Both charts: SVG built by the script, one point per block (intervals: from block 1 on).
    let intervals = page.element("chart-intervals");
    let difficulty = page.element("chart-difficulty");
    for (chart, points) in [(intervals, height - 1), (difficulty, height + 1)] {
        let svg = &chart[chart.find("<svg").expect("an SVG chart")..];
        let svg_tag = &svg[..=svg.find('>').expect("the svg tag")];
        assert_eq!(attr(svg_tag, "data-points"), Some(points.to_string().as_str()), "{svg_tag}");
        assert!(svg.contains("<polyline"), "a line: {chart}");
        assert_eq!(svg.matches("<circle").count() as u64, points, "a point per value");
    }

    // The latest blocks, newest first: heights 7 down to 0.
    let blocks = page.element("blocks");
    assert_eq!(blocks.matches("<tr>").count() as u64, 1 + height + 1, "header and one row per block");
    let tip = status.json["best_hash"].as_str().expect("a hash");
    assert!(blocks.contains(&format!("#q={tip}")), "the tip is listed: {blocks}");
    // The mempool table lists the pending transfer, and the lookup found it.
    assert!(page.element("mempool").contains(&txid), "the mempool lists the transfer");
    let result = page.element("result");
    assert_eq!(attr(page.tag("result"), "data-kind"), Some("tx"), "{result}");
    assert!(result.contains(&txid) && result.contains("pending"), "{result}");
    assert!(result.contains(&address(2)), "the recipient is shown: {result}");
    assert!(attr(page.tag("result"), "hidden").is_none(), "the result is visible");

    // A block by height, an address, and something that does not exist.
    let page = render(&format!("http://{}/#q=3", node.addr));
    assert_clean(&page);
    assert_eq!(attr(page.tag("result"), "data-kind"), Some("block"));
    let block3 = node.get("/api/v1/blocks/3");
    assert!(page.element("result").contains(block3.json["hash"].as_str().expect("a hash")));
    let page = render(&format!("http://{}/#q={}", node.addr, address(1)));
    assert_clean(&page);
    assert_eq!(attr(page.tag("result"), "data-kind"), Some("address"));
    assert!(page.element("result").contains(&txid), "the address history lists its transfer");
    let unknown = "ab".repeat(32);
    let page = render(&format!("http://{}/#q={unknown}", node.addr));
    assert_clean(&page);
    assert_eq!(attr(page.tag("result"), "data-kind"), Some("notfound"));
    assert!(page.text("result").contains("Nothing found"), "{}", page.text("result"));
}
