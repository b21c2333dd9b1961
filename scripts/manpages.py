#!/usr/bin/env python3
"""Writes freezr(8) and freezr.toml(5) from the README, their one source.

freezr.8 takes the README's introduction, the "Command line" section (synopsis, commands, exit
statuses) and the files and environment FreezR uses; freezr.toml.5 takes the "Configuration"
section's reference table and the text around it. A test checks that every option the binary
accepts and every key the configuration reader knows is in them.

    manpages.py README.md VERSION OUTDIR   (writes OUTDIR/man8/freezr.8 and
    process-monitor.8, the seed's name, which includes it; OUTDIR/man5/freezr.toml.5)
"""
import datetime
import os
import re
import sys


def sections(text):
    """{title: body} for every '## ' and '### ' heading (fenced code kept as it is)."""
    out, title, body, fenced = {}, None, [], False
    for line in text.splitlines():
        if line.startswith("```"):
            fenced = not fenced
        if not fenced and re.match(r"#{2,3} ", line):
            if title:
                out[title] = "\n".join(body).strip("\n")
            title, body = line.lstrip("#").strip(), []
        elif title:
            body.append(line)
    if title:
        out[title] = "\n".join(body).strip("\n")
    return out


def escape(text):
    """Plain text as roff: backslashes, hyphens, and a leading dot or quote guarded."""
    text = text.replace("\\", "\\e").replace("-", "\\-")
    return text


def inline(text):
    """Markdown inline markup as roff: `code` bold, [text](url) as text, **x** bold."""
    parts = re.split(r"(`[^`]*`)", text)
    out = []
    for part in parts:
        if part.startswith("`") and part.endswith("`") and len(part) >= 2:
            out.append("\\fB" + escape(part[1:-1]) + "\\fR")
        else:
            part = re.sub(r"\[([^\]]+)\]\(([^)]+)\)", r"\1 (\2)", part)
            part = re.sub(r"\*\*([^*]+)\*\*", r"\1", part)
            out.append(escape(part))
    return "".join(out)


def guard(line):
    """A line that would start with a roff control character starts with \\& instead."""
    return "\\&" + line if line[:1] in (".", "'") else line


def block(markdown):
    """Paragraphs, bullet lists, tables and fenced code of a README section as roff."""
    out, para, fenced, item = [], [], False, None

    def flush():
        nonlocal para, item
        if item is not None:
            out.append(".IP \\(bu 2")
            out.append(guard(inline(" ".join(item))))
            item = None
        if para:
            out.append(".PP")
            out.append(guard(inline(" ".join(para))))
            para = []

    for line in markdown.splitlines():
        if line.startswith("```"):
            flush()
            fenced = not fenced
            out.extend([".RS 4", ".nf"] if fenced else [".fi", ".RE"])
            continue
        if fenced:
            out.append(guard(escape(line)))
            continue
        if line.startswith("|"):
            flush()
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if all(re.fullmatch(r":?-+:?", c) for c in cells) or cells[0] == "key":
                continue
            out.append(".TP")
            out.append(guard(inline(cells[0])))
            out.append(guard(inline("; ".join(cells[1:]))))
            continue
        if not line.strip():
            flush()
            continue
        if re.match(r"\s*[-*] ", line):
            flush()
            item = [re.sub(r"^\s*[-*] ", "", line).strip()]
            continue
        if item is not None:
            item.append(line.strip())
        else:
            para.append(line.strip())
    flush()
    return "\n".join(out)


def header(name, section, version, date):
    return (f'.TH {name.upper()} {section} "{date}" "FreezR {version}" "FreezR"\n'
            ".\\\" Generated from README.md by scripts/manpages.py: edit the README.\n")


FILES = """.TP
.B /etc/freezr/config.toml
The configuration; see \\fBfreezr.toml\\fR(5).
.TP
.B /etc/freezr/conf.d/*.toml
Read after it, in name order: each adds rules and overrides keys.
.TP
.B /var/lib/freezr
The history (\\fBfreezr.db\\fR) and the ledger of reversible actions (\\fBledger.jsonl\\fR).
.TP
.B /var/log/freezr
The daily log files \\fBprocess_monitor.log.YYYY\\-MM\\-DD\\fR.
.TP
.B /run/freezr
The single\\-instance lock \\fBfreezr.lock\\fR and the status snapshot \\fBstatus.json\\fR.
"""

ENVIRONMENT = """.TP
.BR STATE_DIRECTORY ", " LOGS_DIRECTORY ", " RUNTIME_DIRECTORY
Set by systemd for the unit: where the data, the logs and the lock go when the configuration
does not say. Without them, root uses the directories under FILES; another user
\\fB$XDG_STATE_HOME/freezr\\fR and \\fB$XDG_RUNTIME_DIR/freezr\\fR.
.TP
.BR JOURNAL_STREAM ", " INVOCATION_ID
Under systemd, FreezR logs to the journal with a priority and fields per line, instead of to
standard output.
.TP
.B NO_COLOR
Any non\\-empty value turns colours off (\\fB\\-\\-color\\fR decides over it).
.TP
.B FREEZR_TOKEN
The bearer token the terminal dashboard sends to thaw a process.
"""


def freezr8(s, intro, version, date):
    cli = s["Command line"]
    synopsis = re.search(r"```\n(.*?)```", cli, re.S).group(1)
    rest = cli[cli.index("```", cli.index("```") + 3) + 3:]
    exit_at = rest.find("Exit statuses:")
    commands, exits = rest[:exit_at], rest[exit_at:]
    roff = header("freezr", 8, version, date)
    roff += ".SH NAME\nfreezr \\- Linux process guardian\n"
    roff += ".SH SYNOPSIS\n.nf\n" + "\n".join(guard(escape(l)) for l in synopsis.splitlines())
    roff += "\n.fi\n.SH DESCRIPTION\n" + block(intro) + "\n"
    roff += ".SH COMMANDS\n" + block(commands) + "\n"
    roff += ".SH EXIT STATUS\n" + block(exits) + "\n"
    roff += ".SH SERVICE\n" + block(s["Running as a service"]) + "\n"
    roff += ".SH FILES\n" + FILES + ".SH ENVIRONMENT\n" + ENVIRONMENT
    roff += ".SH SEE ALSO\n\\fBfreezr.toml\\fR(5), \\fBsystemctl\\fR(1), \\fBjournalctl\\fR(1)\n"
    return roff


def freezr_toml5(s, version, date):
    roff = header("freezr.toml", 5, version, date)
    roff += ".SH NAME\nfreezr.toml \\- FreezR configuration\n"
    roff += ".SH DESCRIPTION\n" + block(s["Configuration"]) + "\n"
    roff += ".SH KEYS\n" + block(s["Reference"]) + "\n"
    for title in ("Ladders and reversible actions", "Process events and exec-time actions",
                  "Categories", "Predictions", "The Rust FreezR's configuration",
                  "Memory pressure"):
        roff += ".SH " + escape(title.upper()) + "\n" + block(s[title]) + "\n"
    roff += ".SH SEE ALSO\n\\fBfreezr\\fR(8)\n"
    return roff


def main():
    readme, version, outdir = sys.argv[1:4]
    with open(readme, encoding="utf-8") as f:
        text = f.read()
    s = sections(text)
    intro = text[text.index("\n") + 1:text.index("\n## ")].strip()
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    when = datetime.datetime.fromtimestamp(int(epoch), datetime.timezone.utc) if epoch \
        else datetime.datetime.now(datetime.timezone.utc)
    date = when.strftime("%Y-%m-%d")
    for name, roff in (("man8/freezr.8", freezr8(s, intro, version, date)),
                       ("man8/process-monitor.8", ".so man8/freezr.8\n"),
                       ("man5/freezr.toml.5", freezr_toml5(s, version, date))):
        path = os.path.join(outdir, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8") as f:
            f.write(roff)


if __name__ == "__main__":
    main()
