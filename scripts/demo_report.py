#!/usr/bin/env python3
"""demo_report.py: the report of `make demo` (scripts/demo.sh), as text on the terminal and as one
self-contained HTML page (no scripts, no outside resources, so any browser renders it offline).

It only reads what the ferry commands of the demo printed as JSON, so the report says what the tools
said, not what this script believes:
  --steps FILE     tab-separated lines: step title, seconds, command
  --ls FILE        `ferry ls --json` of the backup snapshot (what was backed up)
  --plan FILE      `ferry plan restore --json` (what the restore keeps, drops or re-enrolls, and why)
  --restore FILE   `ferry restore --json` final result (predicted versus actual per item), optional
  --checkin FILE   `ferry device checkin --json` of the new device (re-enrollment), optional
  --device FILE    `ferry device show --json` of the new device after everything, optional
  --title TEXT     the report's title
Writes --text FILE and --html FILE.
"""
import argparse
import html
import json
import sys


def load(path):
    if not path:
        return None
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except OSError:
        return None
    text = text.strip()
    if not text:
        return None
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        # JSON-lines (progress events then a result object): the last object is the result.
        for line in reversed(text.splitlines()):
            line = line.strip()
            if line.startswith("{"):
                try:
                    return json.loads(line)
                except json.JSONDecodeError:
                    continue
    return None


def human(n):
    n = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if n < 1024 or unit == "TiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} TiB"


def read_steps(path):
    steps = []
    if not path:
        return steps
    with open(path, encoding="utf-8") as f:
        for line in f:
            parts = line.rstrip("\n").split("\t")
            if len(parts) >= 2:
                steps.append({"title": parts[0], "seconds": float(parts[1]),
                              "command": parts[2] if len(parts) > 2 else ""})
    return steps


def domains(ls):
    """Bytes and files per backup domain, biggest first."""
    by = {}
    for r in (ls or {}).get("records", []):
        d = by.setdefault(r.get("domain", "?"), {"domain": r.get("domain", "?"), "bytes": 0, "files": 0})
        if r.get("kind") == "file":
            d["bytes"] += int(r.get("size", 0))
            d["files"] += 1
    return sorted(by.values(), key=lambda d: (-d["bytes"], d["domain"]))


def actual_by_item(restore):
    """Item -> actual outcome from the restore report (whatever shape of devices/items it has)."""
    out = {}
    if not isinstance(restore, dict):
        return out
    for dev in restore.get("devices", []) or []:
        for it in dev.get("items", []) or []:
            name = it.get("item")
            if name:
                out[(it.get("kind"), name)] = it
    return out


def text_report(a, steps, ls, plan, restore, checkin, device):
    w = []
    w.append(a.title)
    w.append("=" * len(a.title))
    if steps:
        w.append("")
        w.append("Steps and their time")
        for s in steps:
            w.append(f"  {s['seconds']:7.2f} s  {s['title']}")
        w.append(f"  {sum(s['seconds'] for s in steps):7.2f} s  in all")
    doms = domains(ls)
    if ls:
        files = sum(d["files"] for d in doms)
        total = sum(d["bytes"] for d in doms)
        w.append("")
        w.append(f"What was backed up: {files} files, {human(total)} in {len(doms)} domains"
                 f" ({'encrypted' if ls.get('encrypted') else 'not encrypted'})")
        for d in doms[:12]:
            w.append(f"  {human(d['bytes']):>10}  {d['files']:5d} files  {d['domain']}")
        if len(doms) > 12:
            w.append(f"  ... and {len(doms) - 12} smaller domains")
    if plan:
        act = actual_by_item(restore)
        w.append("")
        w.append(f"What the restore does on the new device, and why (verdict: {plan.get('verdict')})")
        for it in plan.get("items", []):
            rules = ",".join(it.get("rules", []))
            line = f"  {it.get('outcome', ''):22} {it.get('kind', ''):25} {it.get('item', '')}  [{rules}]"
            got = act.get((it.get("kind"), it.get("item")))
            if got and got.get("actual") not in (None, "match"):
                line += f"  (read back: {got.get('actual')})"
            w.append(line)
            if it.get("why"):
                w.append(f"  {'':22} {it['why']}")
        for warn in plan.get("warnings", []):
            w.append(f"  warning: {warn.get('text', '')}")
    if checkin:
        w.append("")
        w.append(f"The new iPhone after the restore: check-in outcome {checkin.get('outcome', '?')}")
        for st in checkin.get("steps", []) or []:
            rules = st.get("rules", "")
            w.append(f"  {st.get('step', st.get('what', ''))}  [{rules}]")
    if device:
        w.append("")
        state = device.get("State", {}) if isinstance(device.get("State"), dict) else {}
        w.append("New iPhone now: enrollment {}, supervised {}, passcode {}, {} managed apps".format(
            device.get("EnrollmentType", "?"), device.get("IsSupervised", "?"),
            "set" if state.get("PasscodePresent") else "cleared (R1)",
            sum(1 for x in device.get("Apps", []) or [] if x.get("IsManaged"))))
    return "\n".join(w) + "\n"


CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:2rem auto;max-width:72rem;
color:#1d1d1f;line-height:1.45;padding:0 1rem}
h1{font-size:1.7rem;margin-bottom:.2rem} h2{font-size:1.2rem;margin-top:2rem;border-bottom:1px solid #ddd}
table{border-collapse:collapse;width:100%;font-size:.92rem} th,td{text-align:left;padding:.3rem .5rem;
border-bottom:1px solid #eee;vertical-align:top} th{background:#f5f5f7}
.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.o-restored,.o-included,.o-kept{color:#0a7d32;font-weight:600} .o-dropped,.o-removed,.o-not-in-backup{color:#b3261e;font-weight:600}
.o-re-enrolled,.o-reinstalled{color:#0550ae;font-weight:600} .rule{font-family:ui-monospace,monospace;
background:#eef;border-radius:3px;padding:0 .25rem;margin-right:.2rem} .why{color:#555;font-size:.85rem}
.muted{color:#666} .r-match{color:#0a7d32} .r-mismatch{color:#b3261e;font-weight:700} .r-unverified{color:#888} code{font-family:ui-monospace,monospace;font-size:.85rem}
"""


def svg_chart(doms):
    """A horizontal bar chart of the biggest domains, drawn as inline SVG."""
    top = [d for d in doms if d["bytes"] > 0][:12]
    if not top:
        return "<p class='muted'>No file data in the backup.</p>"
    biggest = max(d["bytes"] for d in top)
    row, label_w, bar_w = 26, 330, 440
    h = row * len(top) + 10
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{label_w + bar_w + 110}" height="{h}" '
           f'role="img" aria-label="Backup contents by domain and size">']
    for i, d in enumerate(top):
        y = 5 + i * row
        w = max(2, int(bar_w * d["bytes"] / biggest))
        name = d["domain"] if len(d["domain"]) <= 46 else d["domain"][:43] + "..."
        out.append(f'<text x="{label_w - 8}" y="{y + 16}" text-anchor="end" font-size="12">{html.escape(name)}</text>')
        out.append(f'<rect x="{label_w}" y="{y + 3}" width="{w}" height="{row - 8}" fill="#0071e3" rx="3"/>')
        out.append(f'<text x="{label_w + w + 6}" y="{y + 16}" font-size="12">{human(d["bytes"])}</text>')
    out.append("</svg>")
    return "\n".join(out)


def rules_html(rules):
    return "".join(f"<span class='rule'>{html.escape(r)}</span>" for r in rules)


def html_report(a, steps, ls, plan, restore, checkin, device):
    e = html.escape
    p = [f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{e(a.title)}</title>"
         f"<style>{CSS}</style></head><body>", f"<h1>{e(a.title)}</h1>",
         "<p class='muted'>Made by <code>make demo</code> from what ferry, the emulated devices and "
         "<code>ferry mdm</code> reported. Rule IDs refer to the project's RULES.md.</p>"]
    if steps:
        p.append("<h2>Steps and their time</h2><table><tr><th>Step</th><th>Command</th>"
                 "<th class='num'>Seconds</th></tr>")
        for s in steps:
            p.append(f"<tr><td>{e(s['title'])}</td><td><code>{e(s['command'])}</code></td>"
                     f"<td class='num'>{s['seconds']:.2f}</td></tr>")
        p.append(f"<tr><th>In all</th><th></th><th class='num'>{sum(s['seconds'] for s in steps):.2f}</th></tr>"
                 "</table>")
    doms = domains(ls)
    if ls:
        files = sum(d["files"] for d in doms)
        total = sum(d["bytes"] for d in doms)
        p.append("<h2>What was backed up</h2>")
        p.append(f"<p>{files} files, {human(total)} in {len(doms)} domains, "
                 f"{'encrypted with the backup password' if ls.get('encrypted') else 'not encrypted'}.</p>")
        p.append(svg_chart(doms))
        p.append("<table><tr><th>Domain</th><th class='num'>Files</th><th class='num'>Size</th></tr>")
        for d in doms:
            p.append(f"<tr><td>{e(d['domain'])}</td><td class='num'>{d['files']}</td>"
                     f"<td class='num'>{human(d['bytes'])}</td></tr>")
        p.append("</table>")
    if plan:
        act = actual_by_item(restore)
        p.append("<h2>What came back on the new device, and why</h2>")
        p.append(f"<p>Restore verdict: <b>{e(str(plan.get('verdict')))}</b>.</p>")
        for warn in plan.get("warnings", []):
            p.append(f"<p class='muted'>Warning: {e(warn.get('text', ''))}</p>")
        p.append("<p class='muted'>Predicted: the rules engine before the restore. Read back: what ferry read "
                 "from the device over its own services after the restore (<i>unverified</i>: not visible over "
                 "the wire, such as app data and categories; the demo checks those in the emulated device's "
                 "folder).</p>")
        p.append("<table><tr><th>Item</th><th>Kind</th><th>Predicted</th><th>Read back</th><th>Rules</th></tr>")
        for it in plan.get("items", []):
            got = act.get((it.get("kind"), it.get("item")))
            actual = got.get("actual", "") if got else ""
            o = it.get("outcome", "")
            p.append(f"<tr><td>{e(it.get('item', ''))}<div class='why'>{e(it.get('why', ''))}</div></td>"
                     f"<td>{e(it.get('kind', ''))}</td><td class='o-{e(o)}'>{e(o)}</td>"
                     f"<td class='r-{e(actual)}'>{e(actual)}</td><td>{rules_html(it.get('rules', []))}</td></tr>")
        p.append("</table>")
    if checkin:
        p.append("<h2>The new device checks in with the MDM server</h2>")
        p.append(f"<p>Outcome: <b>{e(str(checkin.get('outcome', '?')))}</b></p><ul>")
        for st in checkin.get("steps", []) or []:
            p.append(f"<li>{e(str(st.get('step', st.get('what', ''))))} {rules_html([str(st.get('rules', ''))])}</li>")
        p.append("</ul>")
    if device:
        p.append("<h2>The new device now</h2><table>")
        for k in ("DeviceName", "UniqueDeviceID", "ProductType", "ProductVersion", "EnrollmentType", "IsSupervised"):
            if k in device:
                p.append(f"<tr><th>{e(k)}</th><td>{e(str(device[k]))}</td></tr>")
        p.append("</table>")
    p.append("</body></html>")
    return "\n".join(p) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    for opt in ("steps", "ls", "plan", "restore", "checkin", "device", "text", "html"):
        ap.add_argument("--" + opt)
    ap.add_argument("--title", default="ferry demo: an employee moves to a new iPhone")
    a = ap.parse_args()
    steps = read_steps(a.steps)
    data = [load(a.ls), load(a.plan), load(a.restore), load(a.checkin), load(a.device)]
    txt = text_report(a, steps, *data)
    if a.text:
        with open(a.text, "w", encoding="utf-8") as f:
            f.write(txt)
    else:
        sys.stdout.write(txt)
    if a.html:
        with open(a.html, "w", encoding="utf-8") as f:
            f.write(html_report(a, steps, *data))


if __name__ == "__main__":
    main()
