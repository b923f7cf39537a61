#!/usr/bin/env python3
"""Summary table of a `bench/all.sh` run: every `BENCH {...}` line of the logs in a folder.

    python3 bench/bench_table.py LOG_DIR     # prints the table, writes LOG_DIR/summary.txt and bench.jsonl
    python3 bench/bench_table.py --test      # the unit tests of the helpers below

Each benchmark prints one line per figure on stdout:
    BENCH {"figure":..., "value":..., "unit":..., "reference":..., "reference_value":...,
           "ratio":..., "goal":..., "met": true | false | null, ...}
`all.sh` tees each program's output into LOG_DIR/<name>.log, records each step's exit status and
duration in LOG_DIR/steps.tsv, and the machine in LOG_DIR/machine.txt. Python 3 standard library only.
"""

import json
import os
import sys
import unittest

PREFIX = "BENCH "


def parse_line(line):
    """The JSON object of a BENCH line, or None for any other line (or a broken one)."""
    line = line.rstrip("\n")
    if not line.startswith(PREFIX):
        return None
    try:
        value = json.loads(line[len(PREFIX):])
    except ValueError:
        return None
    return value if isinstance(value, dict) and "figure" in value else None


def number(x):
    """A number with about 3 significant digits, thousands grouped; '' for None."""
    if x is None:
        return ""
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        return str(x)
    a = abs(x)
    if a >= 1000:
        return f"{x:,.0f}"
    if a >= 100:
        return f"{x:.0f}"
    if a >= 10:
        return f"{x:.1f}"
    if a >= 1:
        return f"{x:.2f}"
    if a == 0:
        return "0"
    return f"{x:.3g}"


def met_text(met):
    return {True: "met", False: "NOT met", None: "—"}.get(met, str(met))


def row(bench, step):
    """The table's cells of one BENCH object."""
    unit = bench.get("unit") or ""
    value = f"{number(bench.get('value'))} {unit}".strip()
    reference = bench.get("reference") or "—"
    if bench.get("reference_value") is not None:
        reference = f"{reference}: {number(bench['reference_value'])}"
    ratio = bench.get("ratio")
    return [step, bench.get("figure", "?"), value, reference,
            "" if ratio is None else f"{ratio:.2f}", bench.get("goal") or "—", met_text(bench.get("met"))]


def table(header, rows):
    """Columns as wide as their widest cell, left-aligned, two spaces apart."""
    widths = [max(len(str(r[i])) for r in [header] + rows) for i in range(len(header))]
    lines = ["  ".join(str(c).ljust(w) for c, w in zip(r, widths)).rstrip() for r in [header] + rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines) + "\n"


def read_steps(log_dir):
    """[(name, status, seconds)] from steps.tsv, in the order run."""
    steps = []
    path = os.path.join(log_dir, "steps.tsv")
    if os.path.exists(path):
        with open(path, encoding="utf-8") as f:
            for line in f:
                parts = line.rstrip("\n").split("\t")
                if len(parts) >= 3:
                    steps.append((parts[0], parts[1], parts[2]))
    return steps


def collect(log_dir):
    """[(step, bench)] from LOG_DIR/<step>.log for every step of steps.tsv (else every log)."""
    names = [s[0] for s in read_steps(log_dir)]
    if not names:
        names = sorted(f[:-4] for f in os.listdir(log_dir) if f.endswith(".log"))
    found = []
    for name in names:
        path = os.path.join(log_dir, name + ".log")
        if not os.path.exists(path):
            continue
        with open(path, encoding="utf-8", errors="replace") as f:
            for line in f:
                bench = parse_line(line)
                if bench is not None:
                    found.append((name, bench))
    return found


def summary(log_dir):
    found = collect(log_dir)
    out = []
    header = ["step", "figure", "value", "reference (same run)", "ratio", "goal", "met?"]
    out.append(table(header, [row(b, step) for step, b in found]))
    counts = {k: sum(1 for _, b in found if b.get("met") is k) for k in (True, False, None)}
    out.append(f"{len(found)} figures: {counts[True]} met, {counts[False]} not met, {counts[None]} without a goal\n")
    steps = read_steps(log_dir)
    if steps:
        out.append("\n" + table(["step", "exit", "seconds"], [list(s) for s in steps]))
        failed = [s[0] for s in steps if s[1] != "0"]
        if failed:
            out.append("FAILED steps (see their logs): " + ", ".join(failed) + "\n")
    machine = os.path.join(log_dir, "machine.txt")
    if os.path.exists(machine):
        with open(machine, encoding="utf-8") as f:
            out.append("\n" + f.read())
    out.append(f"logs: {log_dir}\n")
    with open(os.path.join(log_dir, "bench.jsonl"), "w", encoding="utf-8") as f:
        for step, bench in found:
            f.write(json.dumps(dict(bench, step=step)) + "\n")
    text = "".join(out)
    with open(os.path.join(log_dir, "summary.txt"), "w", encoding="utf-8") as f:
        f.write(text)
    return text


class Tests(unittest.TestCase):
    def test_parse_line_takes_only_bench_objects(self):
        line = 'BENCH {"figure":"x","value":1.5,"unit":"s","met":null}\n'
        self.assertEqual(parse_line(line)["value"], 1.5)
        self.assertIsNone(parse_line("run 1: ready 12 ms"))
        self.assertIsNone(parse_line("BENCH not json"))
        self.assertIsNone(parse_line("BENCH [1, 2]"))
        self.assertIsNone(parse_line('BENCH {"value": 1}'))

    def test_numbers_keep_about_three_digits(self):
        self.assertEqual(number(26757.4), "26,757")
        self.assertEqual(number(123.4), "123")
        self.assertEqual(number(17.12), "17.1")
        self.assertEqual(number(1.234), "1.23")
        self.assertEqual(number(0.0123), "0.0123")
        self.assertEqual(number(0), "0")
        self.assertEqual(number(None), "")

    def test_row_shows_the_reference_beside_the_value(self):
        bench = {"figure": "nonce search, 2 threads", "value": 17.1, "unit": "MH/s",
                 "reference": "4-way SHA-NI loop, 2 threads", "reference_value": 13.9,
                 "ratio": 1.2302, "goal": ">= 0.9 per core", "met": True}
        self.assertEqual(row(bench, "mining"), ["mining", "nonce search, 2 threads", "17.1 MH/s",
                                                "4-way SHA-NI loop, 2 threads: 13.9", "1.23",
                                                ">= 0.9 per core", "met"])
        bare = row({"figure": "RSS", "value": 74, "unit": "MB", "met": None}, "restart")
        self.assertEqual(bare[3:], ["—", "", "—", "—"])

    def test_table_aligns_columns(self):
        text = table(["a", "bb"], [["xyz", "1"]])
        self.assertEqual(text, "a    bb\n---  --\nxyz  1\n")

    def test_summary_reads_the_logs_in_step_order(self):
        import tempfile
        with tempfile.TemporaryDirectory() as d:
            with open(os.path.join(d, "b.log"), "w") as f:
                f.write('noise\nBENCH {"figure":"second","value":2,"unit":"s","met":false}\n')
            with open(os.path.join(d, "a.log"), "w") as f:
                f.write('BENCH {"figure":"first","value":1,"unit":"s","met":true}\n')
            with open(os.path.join(d, "steps.tsv"), "w") as f:
                f.write("b\t0\t3\na\t1\t4\n")
            text = summary(d)
            self.assertLess(text.index("second"), text.index("first"))
            self.assertIn("1 met, 1 not met, 0 without a goal", text)
            self.assertIn("FAILED steps (see their logs): a", text)
            with open(os.path.join(d, "bench.jsonl")) as f:
                self.assertEqual(json.loads(f.readline())["step"], "b")


def main(argv):
    if argv[1:] == ["--test"]:
        unittest.main(argv=[argv[0]])
        return 0
    if len(argv) != 2 or not os.path.isdir(argv[1]):
        print(__doc__, file=sys.stderr)
        return 2
    sys.stdout.write(summary(argv[1]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
